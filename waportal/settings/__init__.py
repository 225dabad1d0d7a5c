"""Settings packages: ``base`` (shared), ``dev`` (demo and tests), ``production``."""
