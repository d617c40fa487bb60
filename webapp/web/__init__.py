"""Everything HTTP: the blueprints, rendering, templating, error pages and security headers."""
