"""(Being written.)"""

from flask import Blueprint

blp = Blueprint("web_api_docs", __name__)
