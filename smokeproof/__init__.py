"""smokeproof: an async pytest contract suite for post-deploy smoke testing."""

__version__ = "0.1.0"
