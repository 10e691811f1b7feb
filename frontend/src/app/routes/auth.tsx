import { useNavigate, useSearchParams } from 'react-router-dom';

import { LoginForm, RegisterForm } from '@/features/auth';

/** Only paths inside the shop are followed after sign-in. */
function useReturnTo(): string {
  const [params] = useSearchParams();
  const target = params.get('return_to') ?? '/';
  return target.startsWith('/') && !target.startsWith('//') ? target : '/';
}

export function LoginRoute() {
  const navigate = useNavigate();
  const returnTo = useReturnTo();
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-semibold">Sign in</h1>
      <LoginForm returnTo={returnTo} onDone={() => navigate(returnTo, { replace: true })} />
    </div>
  );
}

export function RegisterRoute() {
  const navigate = useNavigate();
  const returnTo = useReturnTo();
  return (
    <div className="mx-auto max-w-sm">
      <h1 className="mb-6 text-2xl font-semibold">Create your account</h1>
      <RegisterForm returnTo={returnTo} onDone={() => navigate(returnTo, { replace: true })} />
    </div>
  );
}
