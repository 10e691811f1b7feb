import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';

import { googleStartUrl } from '../api/google';
import { useLogin } from '../api/login';

export function LoginForm({ onDone, returnTo = '/' }: { onDone: () => void; returnTo?: string }) {
  const login = useLogin();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email, password }, { onSuccess: onDone });
  };
  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Sign in">
      <TextField label="E-mail" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <TextField
        label="Password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      {login.isError ? <ErrorMessage error={login.error} title="Could not sign in" /> : null}
      <Button type="submit" busy={login.isPending} className="w-full">
        Sign in
      </Button>
      <a
        href={googleStartUrl(returnTo)}
        className="flex min-h-10 w-full items-center justify-center rounded border border-stone-500 bg-white px-4 py-2 text-sm font-medium hover:bg-stone-100"
      >
        Sign in with Google
      </a>
      <p className="text-sm">
        New here?{' '}
        <Link className="underline" to={`/register?return_to=${encodeURIComponent(returnTo)}`}>
          Create an account
        </Link>
      </p>
    </form>
  );
}
