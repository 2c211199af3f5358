"""The archive: typed models, engine/session setup, versioned writes and queries."""
