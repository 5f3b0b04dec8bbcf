"""docs/reference.md: every config key and every output column in one place, generated from the schemas.

``python -m constrict.campaign.reference`` (``make reference``) writes docs/reference.md
from ``workflow/schemas/config.schema.yaml`` (every key, nested keys as
dotted paths, list items as ``[]``: type, default, bounds, unit,
description) and ``workflow/schemas/outputs.schema.yaml`` (every table under
``results_dir``: the rule that writes it and its columns with type, unit and
description). ``--check`` writes nothing and exits 1 when the file is out of
date.

The checks that keep the schemas honest live here too, so that a test and
the command line share them: :func:`undocumented_keys` (config keys without
a description), :func:`column_problems` (documented columns against the
columns a writer wrote) and :func:`code_problems` (every table whose columns
a code constant fixes, ``defined_by`` in the schema, against that constant).

Modules: :mod:`~constrict.campaign.reference.config_keys` (the config
schema's keys), :mod:`~constrict.campaign.reference.outputs` (the output
tables and the column checks) and :mod:`~constrict.campaign.reference.render`
(Markdown and the command line).
"""

from constrict.campaign.reference.config_keys import CONFIG_SCHEMA as CONFIG_SCHEMA
from constrict.campaign.reference.config_keys import OUTPUTS_SCHEMA as OUTPUTS_SCHEMA
from constrict.campaign.reference.config_keys import REFERENCE as REFERENCE
from constrict.campaign.reference.config_keys import REGENERATE as REGENERATE
from constrict.campaign.reference.config_keys import UNIT_SUFFIXES as UNIT_SUFFIXES
from constrict.campaign.reference.config_keys import ConfigKey as ConfigKey
from constrict.campaign.reference.config_keys import config_keys as config_keys
from constrict.campaign.reference.config_keys import read_yaml as read_yaml
from constrict.campaign.reference.config_keys import undocumented_keys as undocumented_keys
from constrict.campaign.reference.outputs import ARROW_TYPES as ARROW_TYPES
from constrict.campaign.reference.outputs import COLUMN_KEYS as COLUMN_KEYS
from constrict.campaign.reference.outputs import ENTRY_KINDS as ENTRY_KINDS
from constrict.campaign.reference.outputs import PLACEHOLDERS as PLACEHOLDERS
from constrict.campaign.reference.outputs import TABLE_KEYS as TABLE_KEYS
from constrict.campaign.reference.outputs import TYPES as TYPES
from constrict.campaign.reference.outputs import Column as Column
from constrict.campaign.reference.outputs import Section as Section
from constrict.campaign.reference.outputs import Table as Table
from constrict.campaign.reference.outputs import arrow_type as arrow_type
from constrict.campaign.reference.outputs import code_columns as code_columns
from constrict.campaign.reference.outputs import code_object as code_object
from constrict.campaign.reference.outputs import code_problems as code_problems
from constrict.campaign.reference.outputs import column_problems as column_problems
from constrict.campaign.reference.outputs import load_outputs as load_outputs
from constrict.campaign.reference.outputs import output_tables as output_tables
from constrict.campaign.reference.outputs import path_regex as path_regex
from constrict.campaign.reference.outputs import table_for as table_for
from constrict.campaign.reference.outputs import written_columns as written_columns
from constrict.campaign.reference.outputs import written_types as written_types
from constrict.campaign.reference.render import main as main
from constrict.campaign.reference.render import render as render
from constrict.campaign.reference.render import render_config as render_config
from constrict.campaign.reference.render import render_outputs as render_outputs
