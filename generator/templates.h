/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit templates of templates/, embedded at build time by tools/embed-templates.py. */
#pragma once

extern const char template_service[];
extern const char template_profile_slice[];
extern const char template_root_slice[];
