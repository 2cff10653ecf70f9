from services.console.app import build_app
from services.console.settings import ConsoleSettings
from services.runtime.service import serve

settings = ConsoleSettings()
serve(build_app(settings), settings)
