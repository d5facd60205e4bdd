"""gitops-gen: render and police GPU inference lanes for Kubernetes and Argo CD."""

from __future__ import annotations

__version__ = "0.1.0"
