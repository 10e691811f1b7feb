import { useState } from 'react';

import type { Image } from '@/api/wire/Image';
import { IMAGE_HEIGHT, IMAGE_WIDTH } from '@/components/ProductCard';

/** Every image is given its size up front, so nothing moves as the pictures load. */
export function ProductGallery({ images, title }: { images: Image[]; title: string }) {
  const [index, setIndex] = useState(0);
  const current = images[index] ?? images[0];
  return (
    <div>
      <div className="aspect-[4/5] overflow-hidden rounded bg-stone-100">
        {current ? (
          <img src={current.url} alt={current.alt} width={IMAGE_WIDTH} height={IMAGE_HEIGHT} className="h-full w-full object-cover" />
        ) : (
          <div className="flex h-full items-center justify-center text-stone-700">No picture of {title} yet</div>
        )}
      </div>
      {images.length > 1 ? (
        <ul className="mt-3 flex gap-2" aria-label="More pictures">
          {images.map((image, i) => (
            <li key={`${image.url}-${i}`}>
              <button
                type="button"
                onClick={() => setIndex(i)}
                aria-pressed={i === index}
                aria-label={`Show picture ${i + 1}: ${image.alt}`}
                className={`block w-16 overflow-hidden rounded border-2 ${i === index ? 'border-accent' : 'border-transparent'} focus:outline-none focus-visible:ring-2 focus-visible:ring-accent`}
              >
                <img src={image.url} alt="" width={64} height={80} loading="lazy" className="aspect-[4/5] w-16 object-cover" />
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
