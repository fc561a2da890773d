/* SPDX-License-Identifier: ISC */
/*
 * confacl.c: the prefix list settings (allow, deny, proxy_trusted), each
 * prefix with its own file:line, and the default allow list. Prefixes are
 * parsed by acl.c; nothing here decides who is let in.
 */
#include "build-config.h"

#include <errno.h>
#include <string.h>

#include "config/config_int.h"

/*
 * Secure by default: loopback and the private ranges. "allow = [];"
 * opens the service to everyone.
 */
void
config_default_allow(struct config *cfg)
{
	static const char *const private[] = { "127.0.0.0/8", "10.0.0.0/8",
	    "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1",
	    "fc00::/7", "fe80::/10" };
	struct acl_prefix	 p;
	char			 why[ACL_WHY_BYTES];
	size_t			 i;

	for (i = 0; i < nitems(private); i++)
		if (acl_parse(private[i], &p, why, sizeof(why)) == 0)
			(void)acl_list_add(&cfg->acl.allow, &p);
}

/* Called for each string of a list setting, with its own file:line. */
typedef int (*string_fn)(struct config *, const struct key *, const char *,
    const struct where *, struct config_errors *);

/*
 * A list setting of strings, each handed to "fn" with the line it is on;
 * a lone string is a list of one.
 */
static int
each_string(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs, string_fn fn)
{
	const config_setting_t	*e;
	struct where		 ew;
	const char		*text;
	size_t			 cursor = 0;
	int			 i, n, bad = 0;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return fn(cfg, k, config_setting_get_string(s), w, errs);
	n = config_setting_length(s);
	if (w->cf != NULL && w->merged_line > 0 && w->merged_line <= w->cf->lines)
		cursor = w->cf->line_start[w->merged_line];
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		config_element_line(w, e, &ew);
		if ((text = config_setting_get_string(e)) == NULL) {
			config_errorf(errs, &ew, "%s: element %d is not a "
			    "string", k->name, i + 1);
			bad = 1;
			continue;
		}
		config_element_where(&ew, text, &cursor);
		if (fn(cfg, k, text, &ew, errs) == -1)
			bad = 1;
	}
	return bad ? -1 : 0;
}

static int
prefix_element(struct config *cfg, const struct key *k, const char *text,
    const struct where *w, struct config_errors *errs)
{
	struct acl_list		*l = (struct acl_list *)(void *)((char *)cfg +
	    k->offset);
	struct acl_prefix	 p;
	char			 why[ACL_WHY_BYTES];

	if (acl_parse(text, &p, why, sizeof(why)) == -1) {
		config_errorf(errs, w, "%s: \"%s\": %s", k->name, text, why);
		return -1;
	}
	if (acl_list_add(l, &p) == -1) {
		config_errorf(errs, w, "%s: %s", k->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* "allow" and "deny": one prefix, or a list of them (which may be empty). */
int
config_get_prefixes(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	acl_list_free((struct acl_list *)(void *)((char *)cfg + k->offset));
	if (!config_is_list(s)) {
		config_errorf(errs, w, "%s: expected a list of prefixes, such "
		    "as [ \"192.0.2.0/24\", \"2001:db8::/32\" ]", k->name);
		return -1;
	}
	return each_string(cfg, k, s, w, errs, prefix_element);
}
