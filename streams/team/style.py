"""The one stylesheet of the team pages: high contrast (WCAG AA), large targets, one column on a phone."""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f5f7}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;
padding:.75rem 1rem;background:#0b3d6e;color:#fff}
header p{margin:0}.app{font-weight:700}.who{margin-left:auto}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}h3{font-size:1.1rem;margin:0 0 .25rem}
a{color:#0b4f9c}a:focus,button:focus,input:focus,select:focus,.scroll:focus{outline:3px solid #e8a200;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:9}
.card{background:#fff;border:1px solid #c9ced6;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
ul.cases{list-style:none;padding:0;margin:0}ul.reasons{margin:.25rem 0 0;padding-left:1.25rem}
.prio-urgent{border-left:.5rem solid #b00020}.prio-high{border-left:.5rem solid #c25e00}.prio-normal{border-left:.5rem solid #4a5a6a}
.tag{font-size:.85rem;background:#e6f2e6;color:#1d5e20;border-radius:.25rem;padding:0 .4rem;margin-left:.5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}label.radio{display:inline-flex;gap:.4rem;font-weight:400;margin-right:1.5rem}
fieldset{border:0;padding:0;margin:.75rem 0 0}legend{font-weight:600;padding:0}
input,select,button{font:inherit;min-height:2.75rem}input[type=radio]{min-height:auto;width:1.25rem;height:1.25rem}
input[type=password],input[type=date],select{width:100%;max-width:32rem;padding:.4rem .5rem;border:1px solid #5c6670;border-radius:.25rem;background:#fff;color:#1a1a1a}
button{margin-top:1rem;padding:.5rem 1.25rem;border:0;border-radius:.25rem;background:#0b4f9c;color:#fff;font-weight:600;cursor:pointer}
header button{margin:0;background:#fff;color:#0b3d6e}
form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}form.inline label{width:100%;margin-bottom:0}
form.inline select{flex:1 1 14rem}form.inline button{margin-top:0}
.scroll{overflow-x:auto;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;background:#fff}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #c9ced6;padding:.4rem .5rem;text-align:left;vertical-align:top}th{background:#e9edf2}
.alert{background:#fde8ea;color:#7a0014;border:1px solid #b00020;padding:.75rem;border-radius:.25rem}
.notice{background:#e6f2e6;color:#1d5e20;border:1px solid #2e7d32;padding:.75rem;border-radius:.25rem}
.hint{font-size:.95rem;color:#3d4650}
@media (max-width:40rem){header{padding:.5rem}.who{margin-left:0;width:100%}main{padding:.5rem}h1{font-size:1.35rem}}
"""
