"""What the templates manager lets the apps above it hear about (see :mod:`waportal.hooks`).

- ``templates_changed(changes=[TemplateChange, …])``: template status or category changes, whether a provider's
  webhook reported them (messaging) or a sync found them (``templates_upsert``). Fired inside the transaction that
  stored them.
"""

from waportal.hooks import Hook

templates_changed = Hook("templates_mgr.templates_changed", "Template status or category changes were stored.")
