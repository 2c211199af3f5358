"""The web reader of the archive (`cqnews serve`): search, articles with their versions and diffs, sites' health,
runs, a JSON API and Prometheus metrics; read-only, server-rendered HTML that works without JavaScript.

``db/`` gives plain data; the words, the markup, the diff HTML and the SVG plots are this package's.
"""
