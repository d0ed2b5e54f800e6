"""Email templates: versions, presets, sandboxed rendering, previews and test sends."""
