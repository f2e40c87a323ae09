"""The register: officers decisions and history, kept across runs."""
