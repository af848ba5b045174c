"""The staff back office: the staff home page, finding a member, a
member's whole record and timeline (with each app's panels, see
``members.panels``), and the audit trail. Reads in ``selectors``, pages in
``views``, their forms in ``forms``; the templates are under
templates/members/staff/."""
