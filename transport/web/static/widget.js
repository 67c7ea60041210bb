// Parley's chat widget: see transport/web/web.go.
