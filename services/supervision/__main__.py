from services.runtime.service import serve
from services.supervision.app import build_app
from services.supervision.settings import SupervisionSettings

settings = SupervisionSettings()
serve(build_app(settings), settings)
