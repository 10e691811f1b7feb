/** Filters as query parameters: values trimmed, empty and missing ones left out. */
export function queryParams(values: Record<string, string | null | undefined>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    const trimmed = value?.trim();
    if (trimmed) params[name] = trimmed;
  }
  return params;
}
