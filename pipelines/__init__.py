"""Item pipelines, one step each: extract (RawPage -> Article) -> dedup (hashes) -> store (archive)."""
