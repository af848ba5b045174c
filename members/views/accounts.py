from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .access import staff_member_required
from .forms import ProfileForm
from .selectors import profile_completeness, profile_get, staff_overview
from .services import profile_update


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    profile = profile_get(user=request.user)
    completeness = profile_completeness(user=request.user, profile=profile)
    return render(
        request,
        "members/dashboard.html",
        {"profile": profile, "completeness": completeness},
    )


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    profile = profile_get(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile, user=request.user)
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile has been saved.")
        return redirect("members:dashboard")
    return render(
        request,
        "members/profile_form.html",
        {"form": form, "is_new": profile is None},
    )


@staff_member_required
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "members/staff/home.html", {"overview": staff_overview()})
