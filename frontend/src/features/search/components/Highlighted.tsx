import { useMemo } from 'react';

import { splitHighlight } from '../highlight';

/**
 * A search highlight as React text: the matched words in `<mark>`, the rest
 * plain. Nothing is parsed as HTML, so the server's text can only ever be text.
 */
export function Highlighted({ html }: { html: string }) {
  const segments = useMemo(() => splitHighlight(html), [html]);
  return (
    <>
      {segments.map((segment, index) =>
        segment.marked ? (
          <mark key={index} className="rounded-sm bg-amber-100 px-0.5 font-semibold text-ink">
            {segment.text}
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}
