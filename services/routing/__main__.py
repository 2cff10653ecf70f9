from services.routing.app import build_app
from services.routing.settings import RoutingSettings
from services.runtime.service import serve

settings = RoutingSettings()
serve(build_app(settings), settings)
