"""Every Flask extension is created here, once, and initialised by create_app()
in the order listed there."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from schemas.errors import ErrorSchema

# A naming convention makes constraint names deterministic, so Alembic can
# alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# "create_savepoint" only matters when a session is bound to a connection that
# is already in a transaction: the test suite does that to roll back each test.
db = SQLAlchemy(model_class=Base, session_options={"join_transaction_mode": "create_savepoint"})
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()


class ReferralApi(Api):
    """flask-smorest's Api, documenting our error shape instead of its own.

    One per application (create_app makes it): an Api keeps its OpenAPI
    document on itself, so sharing one between apps would mix their specs."""

    ERROR_SCHEMA = ErrorSchema


# Models subclass `Model`. For the type checker it is the typed declarative
# base; at run time it is Flask-SQLAlchemy's model class built on that base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
