"""marshmallow schemas: one validation for the API and the browser forms."""
