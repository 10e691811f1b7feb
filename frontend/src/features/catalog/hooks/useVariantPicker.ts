import { useMemo, useState } from 'react';

import type { VariantView } from '@/api/wire/VariantView';

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Colour then size: the pair names one variant (each size × colour exists once). */
export function useVariantPicker(variants: VariantView[]) {
  const colours = useMemo(() => unique(variants.map((v) => v.colour)), [variants]);
  const sizes = useMemo(() => unique(variants.map((v) => v.size)), [variants]);
  const firstInStock = variants.find((v) => v.availability.status !== 'out_of_stock') ?? variants[0];
  const [colour, setColour] = useState<string | undefined>(firstInStock?.colour);
  const [size, setSize] = useState<string | undefined>(variants.length === 1 ? firstInStock?.size : undefined);

  const variantFor = (c: string | undefined, s: string | undefined) =>
    variants.find((v) => v.colour === c && v.size === s);
  const selected = variantFor(colour, size);

  return {
    colours,
    sizes,
    colour,
    size,
    selected,
    setColour: (next: string) => {
      setColour(next);
      if (size !== undefined && !variantFor(next, size)) setSize(undefined);
    },
    setSize,
    /** The size's variant in the chosen colour, if that pair is made. */
    sizeVariant: (s: string) => variantFor(colour, s),
  };
}
