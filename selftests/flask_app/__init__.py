"""A Flask service the suite never saw: Flask-Migrate, an HTTP Basic token login, a CSRF-protected session login."""
