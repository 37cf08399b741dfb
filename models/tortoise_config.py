"""`TORTOISE_ORM` for Tortoise's own CLI (`tortoise -c models.tortoise_config.TORTOISE_ORM ...`).

Used to write new migrations after a model change: `tortoise -c ... makemigrations`.
"""

from models.database import tortoise_config
from settings import Settings

TORTOISE_ORM = tortoise_config(Settings.from_env())
