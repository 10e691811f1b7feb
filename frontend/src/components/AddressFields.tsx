import type { AddressRequest } from '@/api/wire/AddressRequest';

import { SelectField, TextField } from './ui/Field';

/** The countries the cells ship to (home GB, Europe, North America). */
export const COUNTRIES: [string, string][] = [
  ['GB', 'United Kingdom'],
  ['IE', 'Ireland'],
  ['FR', 'France'],
  ['DE', 'Germany'],
  ['NL', 'Netherlands'],
  ['BE', 'Belgium'],
  ['ES', 'Spain'],
  ['IT', 'Italy'],
  ['SE', 'Sweden'],
  ['DK', 'Denmark'],
  ['US', 'United States'],
  ['CA', 'Canada'],
];

export function emptyAddress(): AddressRequest {
  return { full_name: '', line1: '', line2: null, city: '', region: null, postcode: '', country: 'GB', phone: null, is_default: null };
}

type Props = { value: AddressRequest; onChange: (next: AddressRequest) => void };

/** The fields of a postal address; the server checks and normalises them (postcode shapes, countries). */
export function AddressFields({ value, onChange }: Props) {
  const set = (name: keyof AddressRequest, text: string, optional = false) =>
    onChange({ ...value, [name]: optional && text.trim() === '' ? null : text });
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <TextField label="Full name" autoComplete="name" required value={value.full_name} onChange={(e) => set('full_name', e.target.value)} className="sm:col-span-2" />
      <TextField label="Address line 1" autoComplete="address-line1" required value={value.line1} onChange={(e) => set('line1', e.target.value)} className="sm:col-span-2" />
      <TextField label="Address line 2 (optional)" autoComplete="address-line2" value={value.line2 ?? ''} onChange={(e) => set('line2', e.target.value, true)} className="sm:col-span-2" />
      <TextField label="Town or city" autoComplete="address-level2" required value={value.city} onChange={(e) => set('city', e.target.value)} />
      <TextField label="County, state or region (optional)" autoComplete="address-level1" value={value.region ?? ''} onChange={(e) => set('region', e.target.value, true)} />
      <TextField label="Postcode" autoComplete="postal-code" required value={value.postcode} onChange={(e) => set('postcode', e.target.value)} />
      <SelectField label="Country" autoComplete="country" value={value.country} onChange={(e) => set('country', e.target.value)}>
        {COUNTRIES.map(([code, name]) => (
          <option key={code} value={code}>
            {name}
          </option>
        ))}
      </SelectField>
      <TextField label="Phone (optional)" type="tel" autoComplete="tel" value={value.phone ?? ''} onChange={(e) => set('phone', e.target.value, true)} />
    </div>
  );
}

export function AddressLines({ address }: { address: { full_name: string; line1: string; line2: string | null; city: string; region: string | null; postcode: string; country: string } }) {
  return (
    <address className="not-italic">
      {address.full_name}
      <br />
      {address.line1}
      {address.line2 ? (
        <>
          <br />
          {address.line2}
        </>
      ) : null}
      <br />
      {address.city}
      {address.region ? `, ${address.region}` : ''} {address.postcode}
      <br />
      {address.country}
    </address>
  );
}
