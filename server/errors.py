"""Error pages in the visitor's language; JSON bodies for the API."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from .i18n import _

TITLES = {
    400: "Запит не вдалося обробити",
    401: "Потрібно увійти",
    403: "Доступ заборонено",
    404: "Сторінку не знайдено",
    405: "Такий запит тут не підтримується",
    409: "Конфлікт даних",
    413: "Завеликий запит",
    422: "Дані не пройшли перевірку",
    429: "Забагато запитів",
    500: "Внутрішня помилка сервера",
}


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        if request.path.startswith("/api/"):
            return jsonify(
                error={
                    "status": code,
                    "code": error.name.lower().replace(" ", "_"),
                    "message": _(TITLES.get(code, error.name)),
                }
            ), code
        detail = ""
        if code == 400 and error.description == "csrf":
            detail = _(
                "Форма застаріла або надіслана не з цієї сторінки. Оновіть сторінку й спробуйте ще раз."
            )
        title = _(TITLES.get(code, "Помилка"))
        return render_template("error.html", code=code, title=title, detail=detail), code
