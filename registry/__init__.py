"""The industrial park and standard-factory asset registry: domain, storage, rules, services, CLI.

registry/ never imports Flask; the web layer (web/) calls into it.
"""
