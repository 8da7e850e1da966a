"""scar: run container images as serverless functions on AWS Lambda, AWS Batch and OSCAR."""

from scar.version import __version__

__all__ = ["__version__"]
