/* SPDX-License-Identifier: ISC */
/*
 * conflisten.c: the listen setting (addresses, or groups with their own
 * proxy_protocol), -l on the command line, and the rule that a PROXY
 * listener needs proxy_trusted. Addresses are parsed and resolved by
 * listen.c; nothing here binds a socket.
 */
#include "build-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

void
config_listen_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen_text[i]);
	free(cfg->listen_text);
	free(cfg->listen);
	cfg->listen_text = NULL;
	cfg->listen = NULL;
	cfg->nlisten = 0;
}

int
config_listen_add(struct config *cfg, const char *text, const struct where *w,
    struct config_errors *errs)
{
	struct listen_sockaddr	*sa;
	struct listen_addr	 a, *av;
	char			**tv, *copy;
	const char		*why;
	size_t			 nsa;

	if (listen_parse(text, &a, &why) == -1) {
		config_errorf(errs, w, "listen: invalid address \"%s\": %s",
		    text, why);
		return -1;
	}
	if (listen_resolve(&a, &sa, &nsa, &why) == -1) {
		config_errorf(errs, w, "listen: cannot resolve \"%s\": %s",
		    text, why);
		return -1;
	}
	free(sa);
	if ((copy = strdup(text)) == NULL)
		return -1;
	tv = reallocarray(cfg->listen_text, cfg->nlisten + 1, sizeof(*tv));
	if (tv == NULL) {
		free(copy);
		return -1;
	}
	cfg->listen_text = tv;
	av = reallocarray(cfg->listen, cfg->nlisten + 1, sizeof(*av));
	if (av == NULL) {
		free(copy);
		return -1;
	}
	cfg->listen = av;
	cfg->listen_text[cfg->nlisten] = copy;
	cfg->listen[cfg->nlisten] = a;
	cfg->nlisten++;
	return 0;
}

/* Whether the connections of listen address i begin with a PROXY header. */
bool
config_listen_proxy(const struct config *cfg, size_t i)
{
	const struct listen_addr	*a = &cfg->listen[i];

	if (a->socktype != SOCK_STREAM)
		return false;
	if (a->proxy != LISTEN_PROXY_DEFAULT)
		return a->proxy == LISTEN_PROXY_ON;
	return cfg->proxy_protocol;
}

/* A PROXY listener trusts only proxy_trusted, which must then be listed. */
void
config_check_proxy(const struct config *cfg, const struct where *w,
    struct config_errors *errs)
{
	size_t	i;

	if (cfg->proxy_trusted.n > 0)
		return;
	for (i = 0; i < cfg->nlisten; i++)
		if (config_listen_proxy(cfg, i)) {
			config_errorf(errs, w, "proxy_protocol is on for %s, "
			    "but proxy_trusted is empty: list the load "
			    "balancers that may send a PROXY header",
			    cfg->listen_text[i]);
			return;
		}
}

/* Replace the listen list, as -l on the command line does. */
int
config_set_listen(struct config *cfg, char *const *texts, size_t n,
    struct config_errors *errs)
{
	static const struct where cmdline = { "command line", 0, NULL, 0 };
	size_t	 i, before = errs->n;

	config_listen_free(cfg);
	for (i = 0; i < n; i++)
		if (config_listen_add(cfg, texts[i], &cmdline, errs) == -1 &&
		    errs->n == before)
			config_errorf(errs, &cmdline, "listen: %s",
			    strerror(ENOMEM));
	config_check_proxy(cfg, &cmdline, errs);
	return errs->n == before ? 0 : -1;
}

/* A listen group's proxy_protocol; UDP has no PROXY header. */
static int
listen_group_proxy(struct config *cfg, const config_setting_t *proxy,
    const struct where *w, struct config_errors *errs)
{
	struct listen_addr	*a = &cfg->listen[cfg->nlisten - 1];

	if (config_setting_type(proxy) != CONFIG_TYPE_BOOL) {
		config_errorf(errs, w, "listen: proxy_protocol: expected true "
		    "or false");
		return -1;
	}
	if (a->socktype == SOCK_DGRAM && config_setting_get_bool(proxy)) {
		config_errorf(errs, w, "listen: proxy_protocol does not apply "
		    "to UDP (\"%s\")", cfg->listen_text[cfg->nlisten - 1]);
		return -1;
	}
	a->proxy = config_setting_get_bool(proxy) ? LISTEN_PROXY_ON :
	    LISTEN_PROXY_OFF;
	return 0;
}

/* { address = "HOST:PORT"; proxy_protocol = true; } */
static int
listen_group(struct config *cfg, const config_setting_t *g,
    const struct where *w, struct config_errors *errs)
{
	const config_setting_t	*m, *addr = NULL, *proxy = NULL;
	struct where		 mw, pw;
	int			 i, bad = 0;

	for (i = 0; (m = config_setting_get_elem(g, i)) != NULL; i++) {
		config_element_line(w, m, &mw);
		if (strcmp(config_setting_name(m), "address") == 0)
			addr = m;
		else if (strcmp(config_setting_name(m), "proxy_protocol") == 0) {
			proxy = m;
			pw = mw;
		} else {
			config_errorf(errs, &mw, "listen: unknown setting "
			    "\"%s\" in a listener (known: address, "
			    "proxy_protocol)", config_setting_name(m));
			bad = 1;
		}
	}
	if (addr == NULL || config_setting_type(addr) != CONFIG_TYPE_STRING) {
		config_errorf(errs, w, "listen: a listener group needs "
		    "address = \"HOST:PORT\";");
		return -1;
	}
	config_element_line(w, addr, &mw);
	if (config_listen_add(cfg, config_setting_get_string(addr), &mw,
	    errs) == -1)
		return -1;
	if (proxy != NULL && listen_group_proxy(cfg, proxy, &pw, errs) == -1)
		return -1;
	return bad ? -1 : 0;
}

/* Each element: an address, or a group with its address and options. */
static int
listen_elements(struct config *cfg, const config_setting_t *s,
    const struct where *w, struct config_errors *errs)
{
	const config_setting_t	*e;
	struct where		 ew;
	const char		*text;
	size_t			 cursor = 0;
	int			 i, n = config_setting_length(s), bad = 0;

	if (w->cf != NULL && w->merged_line > 0 && w->merged_line <= w->cf->lines)
		cursor = w->cf->line_start[w->merged_line];
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		config_element_line(w, e, &ew);
		if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
			if (listen_group(cfg, e, &ew, errs) == -1)
				bad = 1;
			continue;
		}
		if ((text = config_setting_get_string(e)) == NULL) {
			config_errorf(errs, &ew, "listen: element %d is "
			    "neither an address nor a group", i + 1);
			bad = 1;
			continue;
		}
		config_element_where(&ew, text, &cursor);
		if (config_listen_add(cfg, text, &ew, errs) == -1)
			bad = 1;
	}
	return bad ? -1 : 0;
}

int
config_get_listen(struct config *cfg, const struct key *k,
    const config_setting_t *s, const struct where *w,
    struct config_errors *errs)
{
	(void)k;
	config_listen_free(cfg);
	if (!config_is_list(s)) {
		config_errorf(errs, w, "listen: expected a list of addresses, "
		    "such as [ \"*:7\" ]");
		return -1;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return config_listen_add(cfg, config_setting_get_string(s), w,
		    errs);
	if (config_setting_length(s) == 0) {
		config_errorf(errs, w, "listen: the list is empty");
		return -1;
	}
	return listen_elements(cfg, s, w, errs);
}

/*
 * Where the PROXY protocol was turned on, for config_check_proxy(): the first
 * listen group that says so, else the global setting.
 */
void
config_proxy_where(config_t *lc, const struct conffile *cf, struct where *w)
{
	config_setting_t	*s, *l, *e, *p;
	int			 i;

	s = config_lookup(lc, "proxy_protocol");
	if ((l = config_lookup(lc, "listen")) != NULL &&
	    config_setting_type(l) == CONFIG_TYPE_LIST)
		for (i = 0; (e = config_setting_get_elem(l, i)) != NULL; i++)
			if (config_setting_type(e) == CONFIG_TYPE_GROUP &&
			    (p = config_setting_get_member(e,
			    "proxy_protocol")) != NULL &&
			    config_setting_type(p) == CONFIG_TYPE_BOOL &&
			    config_setting_get_bool(p)) {
				s = p;
				break;
			}
	w->file = cf->nfiles > 0 ? cf->files[0] : NULL;
	w->line = 0;
	if (s != NULL) {
		w->merged_line = config_setting_source_line(s);
		conffile_where(cf, w->merged_line, &w->file, &w->line);
	}
}
