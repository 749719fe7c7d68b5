"""Named operations: the only way state changes. Each loads, checks with the domain,
changes, writes its audit event and commits in one transaction."""
