import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';

import { useRegister } from '../api/register';

export function RegisterForm({ onDone, returnTo = '/' }: { onDone: () => void; returnTo?: string }) {
  const register = useRegister();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    register.mutate({ name, email, password }, { onSuccess: onDone });
  };
  return (
    <form onSubmit={submit} className="space-y-4" aria-label="Create account">
      <TextField label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
      <TextField label="E-mail" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <TextField
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        maxLength={72}
        hint="12 to 72 characters; not a common password and not your e-mail."
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      {register.isError ? <ErrorMessage error={register.error} title="Could not create the account" /> : null}
      <Button type="submit" busy={register.isPending} className="w-full">
        Create account
      </Button>
      <p className="text-sm">
        Have an account?{' '}
        <Link className="underline" to={`/login?return_to=${encodeURIComponent(returnTo)}`}>
          Sign in
        </Link>
      </p>
    </form>
  );
}
