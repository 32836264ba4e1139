// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * onvif_wsdd - WS-Discovery (2005/04, WS-Addressing 2004/08) messages as
 * bytes: build Probe, ProbeMatches, Hello and Bye, and parse any of them.
 * No sockets here, so the parser is what the fuzz target exercises and the
 * camera simulator answers with the same code.
 *
 * Both directions use the generated serialisers on an in-memory buffer
 * (soap->os / soap->is) in place of gSOAP's UDP transport: the caller owns
 * the sockets, so one poll() serves every interface.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "drivers/onvif/onvif_int.h"

int onvif__uuid(char *out, size_t cap)
{
	unsigned char r[16];
	int ret = onvif__random(r, sizeof(r));

	if (ret)
		return ret;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, cap,
		 "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
	return 0;
}

#define WSDD_NS_MAX 32

static struct Namespace wsdd_ns[WSDD_NS_MAX];
static pthread_once_t wsdd_ns_once = PTHREAD_ONCE_INIT;

/* The generated table plus "dn", so a Probe says dn:NetworkVideoTransmitter
 * with xmlns:dn as cameras that match the text expect. */
static void wsdd_ns_init(void)
{
	size_t i = 0;

	for (; namespaces[i].id && i + 2 < WSDD_NS_MAX; i++)
		wsdd_ns[i] = namespaces[i];
	wsdd_ns[i++] =
		(struct Namespace){ "dn", "http://www.onvif.org/ver10/network/wsdl", NULL, NULL };
	wsdd_ns[i] = (struct Namespace){ NULL, NULL, NULL, NULL };
}

static void use_wsdd_ns(struct soap *soap)
{
	pthread_once(&wsdd_ns_once, wsdd_ns_init);
	if (soap->namespaces != wsdd_ns)
		soap_set_namespaces(soap, wsdd_ns);
}

static const char *const actions[] = {
	[ONVIF__PROBE] = WSDD_NS "/Probe",
	[ONVIF__PROBE_MATCH] = WSDD_NS "/ProbeMatches",
	[ONVIF__HELLO] = WSDD_NS "/Hello",
	[ONVIF__BYE] = WSDD_NS "/Bye",
};

static struct SOAP_ENV__Header *new_header(struct soap *soap, const struct onvif__wsdd_msg *m)
{
	struct SOAP_ENV__Header *h = soap_new_SOAP_ENV__Header(soap, 1);

	if (!h)
		return NULL;
	h->wsa__MessageID = soap_strdup(soap, m->msgid);
	h->wsa__Action = (char *)actions[m->kind];
	h->wsa__To = (char *)(m->kind == ONVIF__PROBE_MATCH ? WSA_ANONYMOUS : WSDD_TO);
	if (m->relates_to[0]) {
		h->wsa__RelatesTo = soap_new_wsa__Relationship(soap, 1);
		if (!h->wsa__RelatesTo)
			return NULL;
		h->wsa__RelatesTo->__item = soap_strdup(soap, m->relates_to);
	}
	if (m->kind == ONVIF__HELLO || m->kind == ONVIF__BYE) {
		h->wsdd__AppSequence = soap_new_wsdd__AppSequenceType(soap, 1);
		if (!h->wsdd__AppSequence)
			return NULL;
		h->wsdd__AppSequence->InstanceId = m->instance_id;
		h->wsdd__AppSequence->MessageNumber = m->message_number;
	}
	return h;
}

static char *dup_or_null(struct soap *soap, const char *s)
{
	return s && *s ? soap_strdup(soap, s) : NULL;
}

/* Fill the fields Hello, Bye and ProbeMatch share. */
static int fill_match(struct soap *soap, const struct onvif_found *d,
		      struct wsa__EndpointReferenceType *epr, char **types,
		      struct wsdd__ScopesType **scopes, char **xaddrs)
{
	soap_default_wsa__EndpointReferenceType(soap, epr);
	epr->Address = soap_strdup(soap, d->endpoint);
	*types = dup_or_null(soap, d->types);
	*xaddrs = dup_or_null(soap, d->xaddrs_raw);
	*scopes = NULL;
	if (d->scopes_raw[0]) {
		*scopes = soap_new_wsdd__ScopesType(soap, 1);
		if (!*scopes)
			return -ENOMEM;
		(*scopes)->__item = soap_strdup(soap, d->scopes_raw);
	}
	return epr->Address ? 0 : -ENOMEM;
}

/* The body of @m; 0 or a gSOAP error. */
static int put_body(struct soap *soap, const struct onvif__wsdd_msg *m, const struct onvif_found *d)
{
	struct wsdd__ProbeType probe;
	struct wsdd__ProbeMatchesType pms;
	struct wsdd__ProbeMatchType pm;
	struct wsdd__HelloType hello;
	struct wsdd__ByeType bye;

	switch (m->kind) {
	case ONVIF__PROBE:
		soap_default_wsdd__ProbeType(soap, &probe);
		probe.Types = (char *)(m->types[0] ? m->types : ONVIF_NVT_TYPE);
		soap_serialize_wsdd__ProbeType(soap, &probe);
		return soap_put_wsdd__ProbeType(soap, &probe, "wsdd:Probe", NULL);
	case ONVIF__PROBE_MATCH:
		soap_default_wsdd__ProbeMatchesType(soap, &pms);
		soap_default_wsdd__ProbeMatchType(soap, &pm);
		if (fill_match(soap, d, &pm.wsa__EndpointReference, &pm.Types, &pm.Scopes,
			       &pm.XAddrs))
			return SOAP_EOM;
		pm.MetadataVersion = d->metadata_version;
		pms.__sizeProbeMatch = 1;
		pms.ProbeMatch = &pm;
		soap_serialize_wsdd__ProbeMatchesType(soap, &pms);
		return soap_put_wsdd__ProbeMatchesType(soap, &pms, "wsdd:ProbeMatches", NULL);
	case ONVIF__HELLO:
		soap_default_wsdd__HelloType(soap, &hello);
		if (fill_match(soap, d, &hello.wsa__EndpointReference, &hello.Types, &hello.Scopes,
			       &hello.XAddrs))
			return SOAP_EOM;
		hello.MetadataVersion = d->metadata_version;
		soap_serialize_wsdd__HelloType(soap, &hello);
		return soap_put_wsdd__HelloType(soap, &hello, "wsdd:Hello", NULL);
	case ONVIF__BYE:
		soap_default_wsdd__ByeType(soap, &bye);
		if (fill_match(soap, d, &bye.wsa__EndpointReference, &bye.Types, &bye.Scopes,
			       &bye.XAddrs))
			return SOAP_EOM;
		soap_serialize_wsdd__ByeType(soap, &bye);
		return soap_put_wsdd__ByeType(soap, &bye, "wsdd:Bye", NULL);
	default:
		return SOAP_ERR;
	}
}

int onvif__wsdd_build(struct soap *soap, const struct onvif__wsdd_msg *m,
		      const struct onvif_found *dev, const char **xmlp, size_t *lenp)
{
	const char *out = NULL;
	int err;

	soap_destroy(soap);
	soap_end(soap);
	use_wsdd_ns(soap);
	soap_set_version(soap, 2);
	soap->encodingStyle = NULL;
	soap->header = new_header(soap, m);
	if (!soap->header)
		return -ENOMEM;
	soap->os = &out;
	soap_serializeheader(soap);
	err = soap_begin_send(soap) || soap_envelope_begin_out(soap) || soap_putheader(soap) ||
	      soap_body_begin_out(soap) || put_body(soap, m, dev) || soap_body_end_out(soap) ||
	      soap_envelope_end_out(soap) || soap_end_send(soap);
	soap->os = NULL;
	soap->header = NULL;
	if (err || !out)
		return soap->error == SOAP_EOM ? -ENOMEM : -EIO;
	*xmlp = out;
	*lenp = strlen(out);
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static void take_match(struct onvif_found *f, const struct wsa__EndpointReferenceType *epr,
		       const char *types, const struct wsdd__ScopesType *scopes, const char *xaddrs,
		       unsigned int version)
{
	memset(f, 0, sizeof(*f));
	onvif__copy(f->endpoint, sizeof(f->endpoint), epr->Address);
	onvif__copy(f->types, sizeof(f->types), types);
	onvif__copy(f->scopes_raw, sizeof(f->scopes_raw), scopes ? scopes->__item : NULL);
	onvif__copy(f->xaddrs_raw, sizeof(f->xaddrs_raw), xaddrs);
	f->metadata_version = version;
	onvif_scopes_parse(f->scopes_raw, &f->scopes);
}

struct parsed {
	struct wsdd__ProbeMatchesType pms;
	struct wsdd__HelloType hello;
	struct wsdd__ByeType bye;
	struct wsdd__ProbeType probe;
};

/* Deserialise the body element into @p; which one is in m->kind. */
static int body(struct soap *soap, struct onvif__wsdd_msg *m, struct parsed *p)
{
	if (soap_peek_element(soap))
		return -EBADMSG;
	if (!soap_match_tag(soap, soap->tag, "wsdd:ProbeMatches")) {
		m->kind = ONVIF__PROBE_MATCH;
		return soap_in_wsdd__ProbeMatchesType(soap, "wsdd:ProbeMatches", &p->pms, NULL)
			       ? 0
			       : -EBADMSG;
	}
	if (!soap_match_tag(soap, soap->tag, "wsdd:Hello")) {
		m->kind = ONVIF__HELLO;
		return soap_in_wsdd__HelloType(soap, "wsdd:Hello", &p->hello, NULL) ? 0 : -EBADMSG;
	}
	if (!soap_match_tag(soap, soap->tag, "wsdd:Bye")) {
		m->kind = ONVIF__BYE;
		return soap_in_wsdd__ByeType(soap, "wsdd:Bye", &p->bye, NULL) ? 0 : -EBADMSG;
	}
	if (!soap_match_tag(soap, soap->tag, "wsdd:Probe")) {
		m->kind = ONVIF__PROBE;
		if (!soap_in_wsdd__ProbeType(soap, "wsdd:Probe", &p->probe, NULL))
			return -EBADMSG;
		onvif__copy(m->types, sizeof(m->types), p->probe.Types);
		return 0;
	}
	return -ENOMSG;
}

/* Hand each device of a complete, valid message to @fn. */
static int emit(const struct onvif__wsdd_msg *m, const struct parsed *p, onvif__match_fn fn,
		void *arg)
{
	struct onvif_found f;
	int ret = 0;

	switch (m->kind) {
	case ONVIF__PROBE_MATCH:
		for (int i = 0; !ret && i < p->pms.__sizeProbeMatch; i++) {
			const struct wsdd__ProbeMatchType *pm = &p->pms.ProbeMatch[i];

			if (!pm->wsa__EndpointReference.Address)
				continue;
			take_match(&f, &pm->wsa__EndpointReference, pm->Types, pm->Scopes,
				   pm->XAddrs, pm->MetadataVersion);
			ret = fn(arg, m, &f);
		}
		return ret;
	case ONVIF__HELLO:
		if (!p->hello.wsa__EndpointReference.Address)
			return -EBADMSG;
		take_match(&f, &p->hello.wsa__EndpointReference, p->hello.Types, p->hello.Scopes,
			   p->hello.XAddrs, p->hello.MetadataVersion);
		return fn(arg, m, &f);
	case ONVIF__BYE:
		if (!p->bye.wsa__EndpointReference.Address)
			return -EBADMSG;
		take_match(&f, &p->bye.wsa__EndpointReference, p->bye.Types, p->bye.Scopes,
			   p->bye.XAddrs, p->bye.MetadataVersion ? *p->bye.MetadataVersion : 0);
		return fn(arg, m, &f);
	default:
		return 0;
	}
}

int onvif__wsdd_parse(struct soap *soap, const char *buf, struct onvif__wsdd_msg *m,
		      onvif__match_fn fn, void *arg)
{
	const struct SOAP_ENV__Header *h;
	struct parsed p;
	int ret;

	memset(m, 0, sizeof(*m));
	m->kind = ONVIF__NONE;
	soap_destroy(soap);
	soap_end(soap);
	use_wsdd_ns(soap);
	soap->header = NULL;
	soap->is = buf;
	if (soap_begin_recv(soap) || soap_envelope_begin_in(soap) || soap_recv_header(soap) ||
	    soap_body_begin_in(soap)) {
		ret = -EBADMSG;
		goto out;
	}
	h = soap->header;
	if (h) {
		onvif__copy(m->msgid, sizeof(m->msgid), h->wsa__MessageID);
		if (h->wsa__RelatesTo)
			onvif__copy(m->relates_to, sizeof(m->relates_to),
				    h->wsa__RelatesTo->__item);
	}
	ret = body(soap, m, &p);
	if (!ret && (soap_body_end_in(soap) || soap_envelope_end_in(soap) || soap_end_recv(soap)))
		ret = -EBADMSG;
	if (!ret && fn)
		ret = emit(m, &p, fn, arg);
	if (ret > 0)
		ret = 0;
out:
	soap->is = NULL;
	soap_closesock(soap);
	return ret;
}
