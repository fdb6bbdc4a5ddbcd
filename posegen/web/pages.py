"""The pages: one route per page, each rendering its template over the layout.

A page needs a signed-in session cookie (else it redirects to `/signin`); the
admin pages need the admin role, checked for the whole router. Pages render
the frame, labels and forms; their ES module fills in data from the API. The
balance, lists and everything else a user acts on come from the JSON API, so
the API stays the single source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from posegen.auth import repository as users
from posegen.auth.models import User
from posegen.auth.session import secure_cookies, session_token
from posegen.dependencies import get_db, get_settings, get_tokens
from posegen.errors import Unauthorized
from posegen.web import i18n
from posegen.web.assets import ASSETS
from posegen.web.policy import page_headers

# Autoescaped HTML; a name a template does not define is an error, not an empty string.
TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
    )
)


@dataclass(frozen=True)
class NavItem:
    name: str  # the message `nav.<name>` and the page it links to
    path: str
    admin: bool = False


NAV = (
    NavItem("library", "/library"),
    NavItem("projects", "/projects"),
    NavItem("generate", "/generate"),
    NavItem("generations", "/generations"),
    NavItem("credits", "/credits"),
    NavItem("requests", "/requests"),
    NavItem("admin", "/admin", admin=True),
)
# The catalogue tables every page's script gets; a page adds its own table and those named here.
SHARED_MESSAGES = ("common", "nav", "errors", "poseErrors")
MORE_MESSAGES: dict[str, tuple[str, ...]] = {
    "project": ("projects",),
    "generation": ("generations",),
    "generations": ("generation",),
    "posePhoto": ("library",),
}
ADMIN_SECTIONS = ("users", "queue", "metrics", "requests", "library", "audit")


class SignInFirst(Exception):
    """A page asked for without a valid session: the browser goes to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class AdminsOnly(Exception):
    """An admin page asked for by an account without the admin role."""


async def session_user(request: Request) -> tuple[User, str] | None:
    """The signed-in account and its session token, or None."""
    token = session_token(request)
    if token is None:
        return None
    tokens = get_tokens(request)
    try:
        claims = tokens.verify(token)
    except Unauthorized:
        return None
    async with get_db(request).session(write=False) as session:
        user = await users.get(session, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.token_version:
        return None
    return user, token


async def signed_in(request: Request) -> tuple[User, str]:
    found = await session_user(request)
    if found is None:
        raise SignInFirst(request.url.path)
    return found


async def signed_in_admin(account: Annotated[tuple[User, str], Depends(signed_in)]) -> tuple[User, str]:
    if not account[0].is_admin:
        raise AdminsOnly
    return account


Account = Annotated[tuple[User, str], Depends(signed_in)]


def render(
    request: Request,
    template: str,
    page: str,
    account: tuple[User, str] | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """`template` in the request's language with the layout's context: the account, its CSRF
    token, the navigation, the catalogue for the page's script and the asset URLs."""
    lang = i18n.negotiate(request)
    user, token = account if account is not None else (None, None)
    tokens = get_tokens(request)

    def t(key: str, **params: object) -> str:
        return i18n.translate(lang, key, **params)

    page_data = {
        "lang": lang,
        "page": page,
        "user": (
            {"id": user.id, "name": user.name, "email": user.email, "isAdmin": user.is_admin}
            if user is not None
            else None
        ),
        **context.pop("page_data", {}),
    }
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang,
            "languages": i18n.LANGUAGES,
            "page": page,
            "user": user,
            "csrf": tokens.csrf_token(token) if token is not None else "",
            "nav": [item for item in NAV if not item.admin or (user is not None and user.is_admin)],
            "asset": ASSETS.url,
            "messages": i18n.tables(lang, (*SHARED_MESSAGES, page, *MORE_MESSAGES.get(page, ()))),
            "page_data": page_data,
            "admin_sections": ADMIN_SECTIONS,
            **context,
        },
        status_code=status_code,
        headers=page_headers(get_settings(request)),
    )
    return response


router = APIRouter(include_in_schema=False)
admin_router = APIRouter(include_in_schema=False, dependencies=[Depends(signed_in_admin)])


@router.get("/")
async def home(request: Request) -> Response:
    found = await session_user(request)
    return RedirectResponse("/library" if found else "/signin", status_code=303)


@router.get("/signin")
async def signin(request: Request) -> Response:
    if await session_user(request) is not None:
        return RedirectResponse("/library", status_code=303)
    return render(request, "signin.html", "signin", None, next=_local_path(request.query_params.get("next")))


@router.post("/language")
async def choose_language(
    request: Request,
    lang: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """The switcher: a plain form, so it works before any script runs. Only this site's paths are
    followed back."""
    response = RedirectResponse(_local_path(next), status_code=303)
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 86400,
            path="/",
            samesite="strict",
            secure=secure_cookies(get_settings(request), request),
        )
    return response


def _local_path(candidate: str | None) -> str:
    """`candidate` when it is a path of this site (never another host: no open redirect)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return "/library"
    return candidate


def _page(name: str, path: str) -> None:
    async def show(request: Request, account: Account) -> Response:
        return render(request, f"{name}.html", name, account)

    show.__name__ = f"page_{name}"
    router.add_api_route(path, show, methods=["GET"])


for _name, _path in (
    ("library", "/library"),
    ("projects", "/projects"),
    ("generate", "/generate"),
    ("generations", "/generations"),
    ("credits", "/credits"),
    ("requests", "/requests"),
):
    _page(_name, _path)


@router.get("/library/from-photo")
async def pose_photo_page(request: Request, account: Account) -> Response:
    return render(request, "pose_photo.html", "posePhoto", account)


@router.get("/projects/{project_id}")
async def project_page(request: Request, account: Account, project_id: str) -> Response:
    return render(request, "project.html", "project", account, page_data={"projectId": project_id})


@router.get("/generations/{generation_id}")
async def generation_page(request: Request, account: Account, generation_id: str) -> Response:
    return render(
        request, "generation.html", "generation", account, page_data={"generationId": generation_id}
    )


@admin_router.get("/admin")
async def admin_home() -> Response:
    return RedirectResponse(f"/admin/{ADMIN_SECTIONS[0]}", status_code=303)


@admin_router.get("/admin/{section}")
async def admin_page(request: Request, account: Account, section: str) -> Response:
    if section not in ADMIN_SECTIONS:
        return render(request, "not_found.html", "notFound", account, status_code=404)
    return render(
        request, f"admin/{section}.html", "admin", account, section=section, page_data={"section": section}
    )


def install_pages(app: Any) -> None:
    """Routes and the two page-only outcomes: to the sign-in page, or a 403 page for non-admins."""

    async def to_sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInFirst)
        return RedirectResponse(f"/signin?next={quote(exc.next_path, safe='/')}", status_code=303)

    async def admins_only(request: Request, exc: Exception) -> Response:
        return render(request, "forbidden.html", "forbidden", await session_user(request), status_code=403)

    app.add_exception_handler(SignInFirst, to_sign_in)
    app.add_exception_handler(AdminsOnly, admins_only)
    app.include_router(router)
    app.include_router(admin_router)
