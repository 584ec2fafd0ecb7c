"""Entry points: the command line, the HTTP API, CDS Hooks and the web pages."""
