import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

const CONTROL =
  'mt-1 block w-full rounded border border-stone-500 bg-white px-3 py-2 text-sm focus:border-accent focus:outline-none focus:ring-2 focus:ring-accent';

type Described = { label: string; hint?: string; error?: string | undefined };

/** A label, the control, then its hint and error, tied to the control by `aria-describedby`. */
function useField(id: string | undefined, { hint, error }: Omit<Described, 'label'>) {
  const generated = useId();
  const controlId = id ?? generated;
  const hintId = hint ? `${controlId}-hint` : undefined;
  const errorId = error ? `${controlId}-error` : undefined;
  const control = {
    id: controlId,
    className: CONTROL,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') || undefined,
  };
  return { control, hintId, errorId };
}

function Frame({ label, hint, error, className, controlId, hintId, errorId, children }: Described & { className: string; controlId: string; hintId?: string | undefined; errorId?: string | undefined; children: ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={controlId} className="block text-sm font-medium">
        {label}
      </label>
      {children}
      {hint ? (
        <p id={hintId} className="mt-1 text-xs text-stone-700">
          {hint}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="mt-1 text-xs text-red-800">
          {error}
        </p>
      ) : null}
    </div>
  );
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & Described;

export function TextField({ label, hint, error, id, className = '', ...rest }: FieldProps) {
  const { control, hintId, errorId } = useField(id, { hint, error });
  return (
    <Frame label={label} hint={hint} error={error} className={className} controlId={control.id} hintId={hintId} errorId={errorId}>
      <input {...control} {...rest} />
    </Frame>
  );
}

type TextAreaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & Described;

export function TextAreaField({ label, hint, error, id, className = '', rows = 2, ...rest }: TextAreaProps) {
  const { control, hintId, errorId } = useField(id, { hint, error });
  return (
    <Frame label={label} hint={hint} error={error} className={className} controlId={control.id} hintId={hintId} errorId={errorId}>
      <textarea rows={rows} {...control} {...rest} />
    </Frame>
  );
}

type SelectProps = SelectHTMLAttributes<HTMLSelectElement> & { label: string; children: ReactNode };

export function SelectField({ label, id, className = '', children, ...rest }: SelectProps) {
  const { control } = useField(id, {});
  return (
    <Frame label={label} className={className} controlId={control.id}>
      <select {...control} {...rest}>
        {children}
      </select>
    </Frame>
  );
}

type CheckboxProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'type'> & { label: string };

/** A checkbox inside its own label. */
export function CheckboxField({ label, className = '', ...rest }: CheckboxProps) {
  return (
    <label className={`flex items-center gap-2 text-sm ${className}`}>
      <input type="checkbox" className="accent-accent" {...rest} />
      {label}
    </label>
  );
}
