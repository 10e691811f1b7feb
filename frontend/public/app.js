// Shows which cell served this browser (the edge's x-cellwear-cell header).
fetch('/api/openapi.json')
  .then((response) => {
    document.getElementById('cell').textContent = response.headers.get('x-cellwear-cell') ?? 'unknown';
  })
  .catch(() => {
    document.getElementById('cell').textContent = 'unreachable';
  });
