"""The one stylesheet of the team pages: WCAG 2.1 AA contrast, large targets, one column on a phone.

Every colour, font and size comes from a CSS custom property named after the NL Design System
tokens (`--utrecht-…`, `--nl-…`), with this project's value as the fallback. A municipality applies
its house style by defining those tokens (its own NL Design System theme, served after this
stylesheet; see README "Team pages"), without touching this file. `TOKENS` lists the defaults so a
test can check their contrast.
"""

from __future__ import annotations

__all__ = ["CSS", "TOKENS"]

# The defaults; a theme overrides any of them. Contrast (tests/unit/test_team_pages.py): text on
# the page and on cards >= 4.5:1, the focus ring's two tones each >= 3:1 against what they touch.
TOKENS: dict[str, str] = {
    "--utrecht-document-background-color": "#f4f5f7",
    "--utrecht-document-color": "#1a1a1a",
    "--utrecht-document-font-family": 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    "--utrecht-document-font-size": "1.0625rem",
    "--utrecht-document-line-height": "1.5",
    "--utrecht-page-header-background-color": "#0b3d6e",
    "--utrecht-page-header-color": "#ffffff",
    "--utrecht-page-footer-background-color": "#e3e7ed",
    "--utrecht-page-footer-color": "#1a1a1a",
    "--utrecht-link-color": "#0b4f9c",
    "--utrecht-link-visited-color": "#5b2a86",
    "--utrecht-card-background-color": "#ffffff",
    "--utrecht-card-border-color": "#8a94a0",
    "--utrecht-table-header-background-color": "#e9edf2",
    "--utrecht-table-border-color": "#8a94a0",
    "--utrecht-form-control-border-color": "#5c6670",
    "--utrecht-form-control-background-color": "#ffffff",
    "--utrecht-form-control-invalid-border-color": "#b00020",
    "--utrecht-form-field-invalid-color": "#a0001c",
    "--utrecht-button-primary-action-background-color": "#0b4f9c",
    "--utrecht-button-primary-action-color": "#ffffff",
    "--utrecht-button-secondary-action-background-color": "#ffffff",
    "--utrecht-button-secondary-action-color": "#0b3d6e",
    "--utrecht-alert-error-background-color": "#fde8ea",
    "--utrecht-alert-error-color": "#7a0014",
    "--utrecht-alert-error-border-color": "#b00020",
    "--utrecht-alert-ok-background-color": "#e6f2e6",
    "--utrecht-alert-ok-color": "#1d5e20",
    "--utrecht-alert-ok-border-color": "#2e7d32",
    "--utrecht-hint-color": "#3d4650",
    # Two-tone focus ring: a white inner ring against the element, a near-black outer ring around
    # it; on a light page the dark tone stands out, on the dark header or a button the light one.
    "--utrecht-focus-inverse-outline-color": "#ffffff",
    "--utrecht-focus-outline-color": "#1a1a1a",
    "--utrecht-focus-outline-width": "3px",
    "--vs-priority-urgent-color": "#b00020",
    "--vs-priority-high-color": "#b35500",
    "--vs-priority-normal-color": "#4a5a6a",
    "--vs-max-width": "72rem",
    "--vs-radius": ".5rem",
}


def _root() -> str:
    return ":root{" + ";".join(f"{k}:{v}" for k, v in TOKENS.items()) + "}"


CSS = (
    _root()
    + """
*{box-sizing:border-box}
body{margin:0;font-family:var(--utrecht-document-font-family);font-size:var(--utrecht-document-font-size);
line-height:var(--utrecht-document-line-height);color:var(--utrecht-document-color);
background:var(--utrecht-document-background-color);display:flex;flex-direction:column;min-height:100vh}
main{flex:1 0 auto;width:100%;max-width:var(--vs-max-width);margin:0 auto;padding:1rem}
main:focus{outline:none}
.site-header{background:var(--utrecht-page-header-background-color);color:var(--utrecht-page-header-color)}
.site-header-inner{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;padding:.75rem 1rem;
max-width:var(--vs-max-width);margin:0 auto}
.site-header p{margin:0}.site-header a{color:var(--utrecht-page-header-color)}
.app{font-weight:700}.app a{text-decoration:none}
.menu ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
.menu a{display:inline-block;padding:.5rem .25rem}.menu a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.session{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin-left:auto}
.site-footer{background:var(--utrecht-page-footer-background-color);color:var(--utrecht-page-footer-color);padding:1rem 0}
.site-footer ul{list-style:none;margin:0 auto;padding:0 1rem;max-width:var(--vs-max-width);display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}
.site-footer a{color:var(--utrecht-page-footer-color)}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
h3{font-size:1.1rem;margin:0 0 .25rem}
a{color:var(--utrecht-link-color);text-underline-offset:.15em}a:visited{color:var(--utrecht-link-visited-color)}
.site-header a:visited,.site-footer a:visited{color:inherit}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,
[tabindex]:focus-visible,summary:focus-visible{
outline:var(--utrecht-focus-outline-width) solid var(--utrecht-focus-outline-color);
outline-offset:var(--utrecht-focus-outline-width);
box-shadow:0 0 0 var(--utrecht-focus-outline-width) var(--utrecht-focus-inverse-outline-color)}
main:focus-visible{outline:none;box-shadow:none}
.skip{position:absolute;left:-999rem;top:0}.skip:focus{left:1rem;top:1rem;background:#fff;color:#1a1a1a;padding:.5rem 1rem;z-index:9}
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.card{background:var(--utrecht-card-background-color);border:1px solid var(--utrecht-card-border-color);
border-radius:var(--vs-radius);padding:1rem;margin:0 0 1rem}.card>h2:first-child,.card>h3:first-child,.card>p:first-child{margin-top:0}
ul.cases{list-style:none;padding:0;margin:0}ul.reasons{margin:.25rem 0 0;padding-left:1.25rem}
.meta{margin:.25rem 0}
.prio-urgent{border-left:.5rem solid var(--vs-priority-urgent-color)}
.prio-high{border-left:.5rem solid var(--vs-priority-high-color)}
.prio-normal{border-left:.5rem solid var(--vs-priority-normal-color)}
.tag{font-size:.9rem;background:var(--utrecht-alert-ok-background-color);color:var(--utrecht-alert-ok-color);
border-radius:.25rem;padding:0 .4rem;margin-left:.5rem;white-space:nowrap}
.field{margin:0 0 1rem;border:0;padding:0}
label,legend{display:block;font-weight:600;margin:0 0 .25rem}
label.radio{display:inline-flex;align-items:center;gap:.5rem;font-weight:400;margin:.25rem 1.5rem .25rem 0;min-height:2.75rem}
fieldset{min-width:0}legend{padding:0}
input,select,button,textarea{font:inherit;min-height:2.75rem}
input[type=radio]{min-height:auto;width:1.5rem;height:1.5rem;margin:0}
input[type=password],input[type=date],input[type=text],input[type=search],select,textarea{width:100%;max-width:32rem;
padding:.4rem .5rem;border:2px solid var(--utrecht-form-control-border-color);border-radius:.25rem;
background:var(--utrecht-form-control-background-color);color:var(--utrecht-document-color)}
[aria-invalid=true]{border-color:var(--utrecht-form-control-invalid-border-color);border-width:3px}
.field-invalid{border-left:4px solid var(--utrecht-form-control-invalid-border-color);padding-left:.75rem}
.field-error{color:var(--utrecht-form-field-invalid-color);font-weight:600;margin:0 0 .25rem}
button{margin:.25rem 0 0;padding:.5rem 1.25rem;border:2px solid var(--utrecht-button-primary-action-background-color);
border-radius:.25rem;background:var(--utrecht-button-primary-action-background-color);
color:var(--utrecht-button-primary-action-color);font-weight:600;cursor:pointer}
a.button-link{display:inline-block;padding:.6rem 1.25rem;border-radius:.25rem;font-weight:600;text-decoration:none;
background:var(--utrecht-button-primary-action-background-color);color:var(--utrecht-button-primary-action-color)}
.button-secondary{background:var(--utrecht-button-secondary-action-background-color);
color:var(--utrecht-button-secondary-action-color);border-color:var(--utrecht-button-secondary-action-background-color);margin:0}
form.inline{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end}
form.inline .field{flex:1 1 16rem;margin:0}form.inline button{margin:0}
.scroll{overflow-x:auto;margin-bottom:1rem;max-width:100%}
.timeline-box{max-height:24rem;overflow-y:auto;background:var(--utrecht-card-background-color);
border:1px solid var(--utrecht-card-border-color);border-radius:var(--vs-radius)}
table{border-collapse:collapse;width:100%;background:var(--utrecht-card-background-color)}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid var(--utrecht-table-border-color);padding:.4rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--utrecht-table-header-background-color)}tbody th{font-weight:600}
td.num{text-align:right;white-space:nowrap}
.arrangement{display:block;font-weight:400;font-size:.95rem;margin-top:.25rem}.line{display:block;white-space:nowrap}
ol.timeline{list-style:none;margin:0;padding:.5rem 1rem}
ol.timeline li{padding:.35rem 0 .35rem 1rem;border-left:3px solid var(--utrecht-table-border-color);margin-left:.25rem}
ol.timeline time{display:inline-block;min-width:6.5rem;font-variant-numeric:tabular-nums}
ol.timeline .tl-signal,ol.timeline .tl-costs_charged{border-left-color:var(--vs-priority-urgent-color)}
ol.timeline .tl-attempt,ol.timeline .tl-outcome,ol.timeline .tl-paid{border-left-color:var(--utrecht-alert-ok-border-color)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 .5rem}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
.alert,.error-summary{background:var(--utrecht-alert-error-background-color);color:var(--utrecht-alert-error-color);
border:2px solid var(--utrecht-alert-error-border-color);padding:.75rem 1rem;border-radius:.25rem;margin:0 0 1rem}
.error-summary h2{margin:0 0 .5rem;font-size:1.15rem}.error-summary ul{margin:0;padding-left:1.25rem}
.error-summary a{color:var(--utrecht-alert-error-color);font-weight:600}
.notice{background:var(--utrecht-alert-ok-background-color);color:var(--utrecht-alert-ok-color);
border:2px solid var(--utrecht-alert-ok-border-color);padding:.75rem 1rem;border-radius:.25rem}
.hint{font-size:.95rem;color:var(--utrecht-hint-color);margin:.25rem 0}
.pager ul{list-style:none;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;padding:0}
.case-grid{display:grid;grid-template-columns:minmax(0,1fr);gap:0 2rem}
@media (min-width:64rem){.case-grid{grid-template-columns:minmax(0,3fr) minmax(20rem,2fr)}
.case-main{grid-column:1;grid-row:1}.case-side{grid-column:2;grid-row:1}}
ul.debt-cards{display:none;list-style:none;margin:0;padding:0}
@media (max-width:40rem){ul.debt-cards{display:block}.debt-table{display:none}.debt-cards .line{white-space:normal}
.timeline-box{max-height:none}.site-header-inner{padding:.5rem .75rem;display:grid;grid-template-columns:1fr auto;gap:0 .75rem}
.session{display:contents}.app{grid-area:1/1}.logout{grid-area:1/2}.menu{grid-area:2/1/3/3}.who{grid-area:3/1/4/3;font-size:.95rem}
main{padding:.75rem}h1{font-size:1.35rem}.card{padding:.75rem}}
"""
)
