import { describe, expect, it } from 'vitest';

import { splitHighlight, unescapeHtml } from './highlight';

const plain = (text: string) => ({ text, marked: false });
const marked = (text: string) => ({ text, marked: true });

describe('splitHighlight', () => {
  it('splits the matched words from the rest', () => {
    expect(splitHighlight('Oxford <b>shirt</b> in <b>navy</b>')).toEqual([
      plain('Oxford '),
      marked('shirt'),
      plain(' in '),
      marked('navy'),
    ]);
    expect(splitHighlight('<b>Shirt</b>')).toEqual([marked('Shirt')]);
    expect(splitHighlight('No match here')).toEqual([plain('No match here')]);
    expect(splitHighlight('')).toEqual([]);
  });

  it('unescapes what the server escaped, inside and outside the marks', () => {
    expect(splitHighlight('Harbour &amp; Finch <b>&quot;Oxford&quot;</b> shirt &lt;L&gt; &#x27;22 &#39;23')).toEqual([
      plain('Harbour & Finch '),
      marked('"Oxford"'),
      plain(" shirt <L> '22 '23"),
    ]);
  });

  it('keeps escaped markup as text, never as tags', () => {
    expect(splitHighlight('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <b>shirt</b>')).toEqual([
      plain('<script>alert("x")</script> '),
      marked('shirt'),
    ]);
    expect(splitHighlight('&lt;img src=x onerror=alert(1)&gt;')).toEqual([plain('<img src=x onerror=alert(1)>')]);
    expect(splitHighlight('&lt;b&gt;not marked&lt;/b&gt;')).toEqual([plain('<b>not marked</b>')]);
  });

  it('treats tags other than <b> and </b> as literal text', () => {
    expect(splitHighlight('<i>x</i> <B>y</B> <b class="z">w <br> <bold> <b >')).toEqual([
      plain('<i>x</i> <B>y</B> <b class="z">w <br> <bold> <b >'),
    ]);
  });

  it('copes with unbalanced and nested tags', () => {
    expect(splitHighlight('</b>shirt')).toEqual([plain('shirt')]);
    expect(splitHighlight('navy <b>shirt')).toEqual([plain('navy '), marked('shirt')]);
    expect(splitHighlight('a<b>b<b>c</b>d</b>e')).toEqual([plain('a'), marked('bcd'), plain('e')]);
    expect(splitHighlight('<b>a</b></b>b<b>c')).toEqual([marked('a'), plain('b'), marked('c')]);
    expect(splitHighlight('<b>navy</b><b>coat</b><b></b>')).toEqual([marked('navycoat')]);
  });
});

describe('unescapeHtml', () => {
  it('decodes named and numeric references once', () => {
    expect(unescapeHtml('&amp;lt;b&amp;gt;')).toBe('&lt;b&gt;');
    expect(unescapeHtml('caf&#233; &#xE9;t&#XE9; &apos;')).toBe("café été '");
    expect(unescapeHtml('&#128085;')).toBe('👕');
  });

  it('leaves anything else as it is', () => {
    expect(unescapeHtml('&nbsp; &#0; &#xD800; &#1114112; & x &amp no;')).toBe('&nbsp; &#0; &#xD800; &#1114112; & x &amp no;');
  });
});
