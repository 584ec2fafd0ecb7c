"""Renderings shared by the command line and the web pages (SVG injection maps)."""
