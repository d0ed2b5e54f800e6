"""Tasks: optin."""
