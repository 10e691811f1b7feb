// Both documents come through the edge: /api/* reaches a cell, /admin/api/*
// the control plane.
window.ui = SwaggerUIBundle({
  urls: [
    { url: '/api/openapi.json', name: 'Cell API' },
    { url: '/admin/api/openapi.json', name: 'Control plane API' },
  ],
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
