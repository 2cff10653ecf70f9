from services.notify.app import build_app
from services.notify.settings import NotifySettings
from services.runtime.service import serve

settings = NotifySettings()
serve(build_app(settings), settings)
