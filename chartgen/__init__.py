"""chartgen: one datacenter.yaml to GitOps-ready Helm charts and kubeadm configuration."""

__version__ = "0.1.0"
