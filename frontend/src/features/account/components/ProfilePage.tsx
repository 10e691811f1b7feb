import { useState, type FormEvent } from 'react';

import type { UserResponse } from '@/api/wire/UserResponse';
import { Async } from '@/components/ui/Async';
import { Button } from '@/components/ui/Button';
import { ErrorMessage } from '@/components/ui/ErrorMessage';
import { TextField } from '@/components/ui/Field';
import { formatDate } from '@/lib/format';

import { useRequestEmailChange } from '../api/email';
import { useChangePassword } from '../api/password';
import { useMe, useUpdateProfile } from '../api/profile';

function NameForm({ user }: { user: UserResponse }) {
  const update = useUpdateProfile();
  const [name, setName] = useState(user.name);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ name });
  };
  return (
    <form onSubmit={submit} className="max-w-md space-y-4" aria-label="Profile">
      <TextField label="Name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
      {update.isError ? <ErrorMessage error={update.error} title="Could not save" /> : null}
      {update.isSuccess ? (
        <p role="status" className="text-sm text-green-800">
          Saved.
        </p>
      ) : null}
      <Button type="submit" busy={update.isPending}>
        Save
      </Button>
    </form>
  );
}

function EmailForm() {
  const change = useRequestEmailChange();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // The password is not kept once sent, whatever the answer.
    change.mutate({ email: email.trim(), password }, { onSettled: () => setPassword('') });
  };
  return (
    <form onSubmit={submit} className="max-w-md space-y-4" aria-label="Change e-mail address">
      <h3 className="font-semibold">Change e-mail address</h3>
      <TextField
        label="New e-mail address"
        type="email"
        autoComplete="email"
        required
        hint="We send a link there; your address changes only when you open it."
        value={email}
        onChange={(e) => setEmail(e.target.value)}
      />
      <TextField
        label="Password"
        type="password"
        autoComplete="current-password"
        required
        hint="Your current password, to show it is you asking."
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      {change.isError ? <ErrorMessage error={change.error} title="The e-mail address was not changed" /> : null}
      {change.isSuccess ? (
        <p role="status" className="text-sm text-green-800">
          We sent a link to <strong>{change.data.email}</strong>, valid until {formatDate(change.data.expires_at)}. Nothing changes until you open it.
        </p>
      ) : null}
      <Button type="submit" busy={change.isPending}>
        Send the link
      </Button>
    </form>
  );
}

function PasswordForm() {
  const change = useChangePassword();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setCurrent('');
          setNext('');
        },
      },
    );
  };
  return (
    <form onSubmit={submit} className="max-w-md space-y-4" aria-label="Change password">
      <h3 className="font-semibold">Change password</h3>
      <TextField label="Current password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
      <TextField
        label="New password"
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        maxLength={72}
        hint="12 to 72 characters. Your other devices are signed out."
        value={next}
        onChange={(e) => setNext(e.target.value)}
      />
      {change.isError ? <ErrorMessage error={change.error} title="The password was not changed" /> : null}
      {change.isSuccess ? (
        <p role="status" className="text-sm text-green-800">
          Password changed; other sessions were signed out.
        </p>
      ) : null}
      <Button type="submit" busy={change.isPending}>
        Change password
      </Button>
    </form>
  );
}

export function ProfilePage() {
  const me = useMe();
  return (
    <section aria-labelledby="profile-title">
      <h2 id="profile-title" className="mb-4 text-xl font-semibold">
        Profile
      </h2>
      <Async query={me} errorTitle="Could not load your profile">
        {(user) => (
          <div className="space-y-6">
            <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
              <dt className="text-stone-700">E-mail</dt>
              <dd>{user.email}</dd>
              <dt className="text-stone-700">Roles</dt>
              <dd>{user.roles.join(', ')}</dd>
            </dl>
            <NameForm user={user} />
            <EmailForm />
            <PasswordForm />
          </div>
        )}
      </Async>
    </section>
  );
}
