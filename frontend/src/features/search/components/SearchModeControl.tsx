import { useId } from 'react';

import type { SearchMode } from '@/api/wire/SearchMode';

const MODES: { mode: SearchMode; label: string; hint: string }[] = [
  { mode: 'text', label: 'Words', hint: 'Products that hold your words.' },
  { mode: 'semantic', label: 'Meaning', hint: 'The closest products in meaning, even without your words.' },
  { mode: 'hybrid', label: 'Both', hint: 'Word matches and close meanings, ranked together.' },
];

/**
 * How the words are matched, as a segmented radio group: the radios stay real
 * (arrow keys move between them) and only look like buttons.
 */
export function SearchModeControl({ value, onChange }: { value: SearchMode; onChange: (mode: SearchMode) => void }) {
  const name = useId();
  const hintId = `${name}-hint`;
  return (
    <fieldset aria-describedby={hintId}>
      <legend className="text-sm font-medium">Match by</legend>
      <div className="mt-1 inline-flex rounded border border-stone-500 bg-white p-0.5">
        {MODES.map(({ mode, label }) => (
          <label key={mode} className="cursor-pointer">
            <input
              type="radio"
              name={name}
              value={mode}
              checked={value === mode}
              onChange={() => onChange(mode)}
              className="peer sr-only"
            />
            <span className="block rounded px-3 py-1.5 text-sm text-ink peer-checked:bg-accent peer-checked:text-white peer-focus-visible:ring-2 peer-focus-visible:ring-accent peer-focus-visible:ring-offset-1">
              {label}
            </span>
          </label>
        ))}
      </div>
      <p id={hintId} className="mt-1 max-w-xs text-xs text-stone-700">
        {MODES.find(({ mode }) => mode === value)?.hint}
      </p>
    </fieldset>
  );
}
