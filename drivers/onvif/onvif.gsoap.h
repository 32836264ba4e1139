/* SPDX-License-Identifier: GPL-2.0-or-later */
/* clang-format off */
/*
 * onvif.gsoap.h - the gSOAP interface header for the ONVIF subset camgate
 * speaks, from the ONVIF Core, Media, Media2 and PTZ specifications (no
 * WSDL is downloaded at build time, no wsdl2h); soapcpp2 turns it into
 * $(O)/gen/onvif/soap*.{c,h} (drivers/onvif/module.mk).
 *
 * Input to soapcpp2 only, never included from C, and not C (hence
 * clang-format off). Only the elements camgate reads are declared; gSOAP
 * skips unknown elements, so vendor
 * extensions and newer schema versions parse. ONVIF enumerations grow
 * (H265, new transports), so they are modelled as strings, as are
 * booleans and durations, which cameras spell inconsistently.
 *
 * Both sides are generated from this file: the client stubs used by
 * drivers/onvif and the server skeleton used by the camera simulator
 * (tests/camsim/onvif_sim.c).
 */

/* WS-Discovery 2005/04 with WS-Addressing 2004/08, as ONVIF uses it. */
#import "wsdd10.h"

//gsoap tt schema namespace: http://www.onvif.org/ver10/schema
//gsoap tt schema elementForm: qualified
//gsoap tt schema attributeForm: unqualified

//gsoap ter schema namespace: http://www.onvif.org/ver10/error

/* Probe Types QNames: declared so they serialise with their xmlns. */
//gsoap dn schema namespace: http://www.onvif.org/ver10/network/wsdl

/*
 * WS-Security UsernameToken, the part ONVIF uses. gSOAP's own wsse.h
 * drags in XML-DSig, XML-Enc and SAML; the digest is computed by
 * drivers/onvif/onvif_auth.c with mbedtls.
 */
//gsoap wsse schema namespace: http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd
//gsoap wsse schema elementForm: qualified
//gsoap wsse schema attributeForm: unqualified
//gsoap wsu schema namespace: http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd
//gsoap wsu schema elementForm: qualified
//gsoap wsu schema attributeForm: unqualified

struct _wsse__Password {
	char *__item;
	@char *Type 0;
};

struct _wsse__Nonce {
	char *__item;
	@char *EncodingType 0;
};

struct _wsse__UsernameToken {
	char *Username 1;
	struct _wsse__Password *Password 0;
	struct _wsse__Nonce *Nonce 0;
	char *wsu__Created 0;
};

struct _wsse__Security {
	struct _wsse__UsernameToken *UsernameToken 0;
};

mutable struct SOAP_ENV__Header {
	mustUnderstand struct _wsse__Security *wsse__Security 0;
};

/* ------------------------------------------------------------------ tt */

struct tt__Time {
	int Hour 1;
	int Minute 1;
	int Second 1;
};

struct tt__Date {
	int Year 1;
	int Month 1;
	int Day 1;
};

struct tt__DateTime {
	struct tt__Time *Time 1;
	struct tt__Date *Date 1;
};

struct tt__TimeZone {
	char *TZ 1;
};

struct tt__SystemDateTime {
	char *DateTimeType 1;		/* Manual, NTP */
	char *DaylightSavings 1;
	struct tt__TimeZone *TimeZone 0;
	struct tt__DateTime *UTCDateTime 0;
	struct tt__DateTime *LocalDateTime 0;
};

struct tt__XAddrCapability {		/* any *Capabilities with an XAddr */
	char *XAddr 0;
};

struct tt__Capabilities {
	struct tt__XAddrCapability *Analytics 0;
	struct tt__XAddrCapability *Device 0;
	struct tt__XAddrCapability *Events 0;
	struct tt__XAddrCapability *Imaging 0;
	struct tt__XAddrCapability *Media 0;
	struct tt__XAddrCapability *PTZ 0;
};

struct tt__OnvifVersion {
	int Major 1;
	int Minor 1;
};

struct tt__NetworkInterfaceInfo {
	char *Name 0;
	char *HwAddress 1;
	int *MTU 0;
};

struct tt__PrefixedIPv4Address {
	char *Address 1;
	int PrefixLength 1;
};

struct tt__IPv4Configuration {
	$int __sizeManual;
	struct tt__PrefixedIPv4Address *Manual 0;
	struct tt__PrefixedIPv4Address *LinkLocal 0;
	struct tt__PrefixedIPv4Address *FromDHCP 0;
	char *DHCP 1;
};

struct tt__IPv4NetworkInterface {
	char *Enabled 1;
	struct tt__IPv4Configuration *Config 1;
};

struct tt__NetworkInterface {
	@char *token 1;
	char *Enabled 1;
	struct tt__NetworkInterfaceInfo *Info 0;
	struct tt__IPv4NetworkInterface *IPv4 0;
};

struct tt__HostnameInformation {
	char *FromDHCP 1;
	char *Name 0;
};

struct tt__Scope {
	char *ScopeDef 1;		/* Fixed, Configurable */
	char *ScopeItem 1;
};

struct tt__VideoResolution {
	int Width 1;
	int Height 1;
};

struct tt__VideoRateControl {
	int FrameRateLimit 1;
	int EncodingInterval 0;
	int BitrateLimit 1;
};

struct tt__VideoSourceConfiguration {
	@char *token 1;
	char *Name 1;
	int UseCount 1;
	char *SourceToken 1;
};

struct tt__VideoEncoderConfiguration {
	@char *token 1;
	char *Name 1;
	int UseCount 1;
	char *Encoding 1;		/* JPEG, MPEG4, H264 */
	struct tt__VideoResolution *Resolution 1;
	float Quality 1;
	struct tt__VideoRateControl *RateControl 0;
};

struct tt__PTZConfiguration {
	@char *token 1;
	char *Name 1;
	int UseCount 1;
	char *NodeToken 1;
};

struct tt__Profile {
	@char *token 1;
	@char *fixed 0;
	char *Name 1;
	struct tt__VideoSourceConfiguration *VideoSourceConfiguration 0;
	struct tt__VideoEncoderConfiguration *VideoEncoderConfiguration 0;
	struct tt__PTZConfiguration *PTZConfiguration 0;
};

struct tt__Transport {
	char *Protocol 1;		/* UDP, TCP, RTSP, HTTP */
	struct tt__Transport *Tunnel 0;
};

struct tt__StreamSetup {
	char *Stream 1;			/* RTP-Unicast, RTP-Multicast */
	struct tt__Transport *Transport 1;
};

struct tt__MediaUri {
	char *Uri 1;
	char *InvalidAfterConnect 1;
	char *InvalidAfterReboot 1;
	char *Timeout 1;		/* xs:duration */
};

struct tt__VideoRateControl2 {
	@char *ConstantBitRate 0;
	float FrameRateLimit 1;
	int BitrateLimit 1;
};

struct tt__VideoEncoder2Configuration {
	@char *token 1;
	@int *GovLength 0;
	@char *Profile 0;
	char *Name 1;
	int UseCount 1;
	char *Encoding 1;		/* JPEG, MPEG4, H264, H265 */
	struct tt__VideoResolution *Resolution 1;
	struct tt__VideoRateControl2 *RateControl 0;
	float Quality 1;
};

struct tt__Vector2D {
	@float x 1;
	@float y 1;
	@char *space 0;
};

struct tt__Vector1D {
	@float x 1;
	@char *space 0;
};

struct tt__PTZSpeed {
	struct tt__Vector2D *PanTilt 0;
	struct tt__Vector1D *Zoom 0;
};

struct tt__PTZVector {
	struct tt__Vector2D *PanTilt 0;
	struct tt__Vector1D *Zoom 0;
};

struct tt__PTZNode {
	@char *token 1;
	@char *FixedHomePosition 0;
	char *Name 0;
	int MaximumNumberOfPresets 1;
	char *HomeSupported 1;
};

struct tt__PTZPreset {
	@char *token 0;
	char *Name 0;
	struct tt__PTZVector *PTZPosition 0;
};

/* ------------------------------------------------------------- Device */

//gsoap tds schema namespace: http://www.onvif.org/ver10/device/wsdl
//gsoap tds schema elementForm: qualified
//gsoap tds schema attributeForm: unqualified

struct _tds__GetSystemDateAndTime { };
struct _tds__GetSystemDateAndTimeResponse {
	struct tt__SystemDateTime *SystemDateAndTime 1;
};

struct _tds__GetDeviceInformation { };
struct _tds__GetDeviceInformationResponse {
	char *Manufacturer 1;
	char *Model 1;
	char *FirmwareVersion 1;
	char *SerialNumber 1;
	char *HardwareId 1;
};

struct _tds__GetCapabilities {
	$int __sizeCategory;
	char **Category 0;		/* All, Device, Media, PTZ ... */
};
struct _tds__GetCapabilitiesResponse {
	struct tt__Capabilities *Capabilities 1;
};

struct tds__Service {
	char *Namespace 1;
	char *XAddr 1;
	struct tt__OnvifVersion *Version 1;
};

struct _tds__GetServices {
	char *IncludeCapability 1;
};
struct _tds__GetServicesResponse {
	$int __sizeService;
	struct tds__Service *Service 1;
};

struct _tds__GetNetworkInterfaces { };
struct _tds__GetNetworkInterfacesResponse {
	$int __sizeNetworkInterfaces;
	struct tt__NetworkInterface *NetworkInterfaces 1;
};

struct _tds__GetHostname { };
struct _tds__GetHostnameResponse {
	struct tt__HostnameInformation *HostnameInformation 1;
};

struct _tds__GetScopes { };
struct _tds__GetScopesResponse {
	$int __sizeScopes;
	struct tt__Scope *Scopes 1;
};

//gsoap tds service name: Device
//gsoap tds service type: Device
//gsoap tds service namespace: http://www.onvif.org/ver10/device/wsdl
//gsoap tds service style: document
//gsoap tds service encoding: literal

//gsoap tds service method-action: GetSystemDateAndTime http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime
int __tds__GetSystemDateAndTime(struct _tds__GetSystemDateAndTime *tds__GetSystemDateAndTime,
				struct _tds__GetSystemDateAndTimeResponse *tds__GetSystemDateAndTimeResponse);
//gsoap tds service method-action: GetDeviceInformation http://www.onvif.org/ver10/device/wsdl/GetDeviceInformation
int __tds__GetDeviceInformation(struct _tds__GetDeviceInformation *tds__GetDeviceInformation,
				struct _tds__GetDeviceInformationResponse *tds__GetDeviceInformationResponse);
//gsoap tds service method-action: GetCapabilities http://www.onvif.org/ver10/device/wsdl/GetCapabilities
int __tds__GetCapabilities(struct _tds__GetCapabilities *tds__GetCapabilities,
			   struct _tds__GetCapabilitiesResponse *tds__GetCapabilitiesResponse);
//gsoap tds service method-action: GetServices http://www.onvif.org/ver10/device/wsdl/GetServices
int __tds__GetServices(struct _tds__GetServices *tds__GetServices,
		       struct _tds__GetServicesResponse *tds__GetServicesResponse);
//gsoap tds service method-action: GetNetworkInterfaces http://www.onvif.org/ver10/device/wsdl/GetNetworkInterfaces
int __tds__GetNetworkInterfaces(struct _tds__GetNetworkInterfaces *tds__GetNetworkInterfaces,
				struct _tds__GetNetworkInterfacesResponse *tds__GetNetworkInterfacesResponse);
//gsoap tds service method-action: GetHostname http://www.onvif.org/ver10/device/wsdl/GetHostname
int __tds__GetHostname(struct _tds__GetHostname *tds__GetHostname,
		       struct _tds__GetHostnameResponse *tds__GetHostnameResponse);
//gsoap tds service method-action: GetScopes http://www.onvif.org/ver10/device/wsdl/GetScopes
int __tds__GetScopes(struct _tds__GetScopes *tds__GetScopes,
		     struct _tds__GetScopesResponse *tds__GetScopesResponse);

/* ---------------------------------------------------------- Media ver10 */

//gsoap trt schema namespace: http://www.onvif.org/ver10/media/wsdl
//gsoap trt schema elementForm: qualified
//gsoap trt schema attributeForm: unqualified

struct _trt__GetProfiles { };
struct _trt__GetProfilesResponse {
	$int __sizeProfiles;
	struct tt__Profile *Profiles 0;
};

struct _trt__GetStreamUri {
	struct tt__StreamSetup *StreamSetup 1;
	char *ProfileToken 1;
};
struct _trt__GetStreamUriResponse {
	struct tt__MediaUri *MediaUri 1;
};

struct _trt__GetSnapshotUri {
	char *ProfileToken 1;
};
struct _trt__GetSnapshotUriResponse {
	struct tt__MediaUri *MediaUri 1;
};

//gsoap trt service name: Media
//gsoap trt service type: Media
//gsoap trt service namespace: http://www.onvif.org/ver10/media/wsdl
//gsoap trt service style: document
//gsoap trt service encoding: literal

//gsoap trt service method-action: GetProfiles http://www.onvif.org/ver10/media/wsdl/GetProfiles
int __trt__GetProfiles(struct _trt__GetProfiles *trt__GetProfiles,
		       struct _trt__GetProfilesResponse *trt__GetProfilesResponse);
//gsoap trt service method-action: GetStreamUri http://www.onvif.org/ver10/media/wsdl/GetStreamUri
int __trt__GetStreamUri(struct _trt__GetStreamUri *trt__GetStreamUri,
			struct _trt__GetStreamUriResponse *trt__GetStreamUriResponse);
//gsoap trt service method-action: GetSnapshotUri http://www.onvif.org/ver10/media/wsdl/GetSnapshotUri
int __trt__GetSnapshotUri(struct _trt__GetSnapshotUri *trt__GetSnapshotUri,
			  struct _trt__GetSnapshotUriResponse *trt__GetSnapshotUriResponse);

/* ---------------------------------------------------------- Media ver20 */

//gsoap tr2 schema namespace: http://www.onvif.org/ver20/media/wsdl
//gsoap tr2 schema elementForm: qualified
//gsoap tr2 schema attributeForm: unqualified

struct tr2__ConfigurationSet {
	struct tt__VideoSourceConfiguration *VideoSource 0;
	struct tt__VideoEncoder2Configuration *VideoEncoder 0;
	struct tt__PTZConfiguration *PTZ 0;
};

struct tr2__MediaProfile {
	@char *token 1;
	@char *fixed 0;
	char *Name 1;
	struct tr2__ConfigurationSet *Configurations 0;
};

struct _tr2__GetProfiles {
	char *Token 0;
	$int __sizeType;
	char **Type 0;			/* All, VideoSource, VideoEncoder ... */
};
struct _tr2__GetProfilesResponse {
	$int __sizeProfiles;
	struct tr2__MediaProfile *Profiles 0;
};

struct _tr2__GetStreamUri {
	char *Protocol 1;		/* RtspUnicast, RtspMulticast, RTSP ... */
	char *ProfileToken 1;
};
struct _tr2__GetStreamUriResponse {
	char *Uri 1;
};

struct _tr2__GetSnapshotUri {
	char *ProfileToken 1;
};
struct _tr2__GetSnapshotUriResponse {
	char *Uri 1;
};

//gsoap tr2 service name: Media2
//gsoap tr2 service type: Media2
//gsoap tr2 service namespace: http://www.onvif.org/ver20/media/wsdl
//gsoap tr2 service style: document
//gsoap tr2 service encoding: literal

//gsoap tr2 service method-action: GetProfiles http://www.onvif.org/ver20/media/wsdl/GetProfiles
int __tr2__GetProfiles(struct _tr2__GetProfiles *tr2__GetProfiles,
		       struct _tr2__GetProfilesResponse *tr2__GetProfilesResponse);
//gsoap tr2 service method-action: GetStreamUri http://www.onvif.org/ver20/media/wsdl/GetStreamUri
int __tr2__GetStreamUri(struct _tr2__GetStreamUri *tr2__GetStreamUri,
			struct _tr2__GetStreamUriResponse *tr2__GetStreamUriResponse);
//gsoap tr2 service method-action: GetSnapshotUri http://www.onvif.org/ver20/media/wsdl/GetSnapshotUri
int __tr2__GetSnapshotUri(struct _tr2__GetSnapshotUri *tr2__GetSnapshotUri,
			  struct _tr2__GetSnapshotUriResponse *tr2__GetSnapshotUriResponse);

/* ------------------------------------------------------------ PTZ ver20 */

//gsoap tptz schema namespace: http://www.onvif.org/ver20/ptz/wsdl
//gsoap tptz schema elementForm: qualified
//gsoap tptz schema attributeForm: unqualified

struct _tptz__GetNodes { };
struct _tptz__GetNodesResponse {
	$int __sizePTZNode;
	struct tt__PTZNode *PTZNode 0;
};

struct _tptz__ContinuousMove {
	char *ProfileToken 1;
	struct tt__PTZSpeed *Velocity 1;
	char *Timeout 0;		/* xs:duration */
};
struct _tptz__ContinuousMoveResponse { };

struct _tptz__Stop {
	char *ProfileToken 1;
	char *PanTilt 0;
	char *Zoom 0;
};
struct _tptz__StopResponse { };

struct _tptz__GetPresets {
	char *ProfileToken 1;
};
struct _tptz__GetPresetsResponse {
	$int __sizePreset;
	struct tt__PTZPreset *Preset 0;
};

struct _tptz__GotoPreset {
	char *ProfileToken 1;
	char *PresetToken 1;
	struct tt__PTZSpeed *Speed 0;
};
struct _tptz__GotoPresetResponse { };

//gsoap tptz service name: PTZ
//gsoap tptz service type: PTZ
//gsoap tptz service namespace: http://www.onvif.org/ver20/ptz/wsdl
//gsoap tptz service style: document
//gsoap tptz service encoding: literal

//gsoap tptz service method-action: GetNodes http://www.onvif.org/ver20/ptz/wsdl/GetNodes
int __tptz__GetNodes(struct _tptz__GetNodes *tptz__GetNodes,
		     struct _tptz__GetNodesResponse *tptz__GetNodesResponse);
//gsoap tptz service method-action: ContinuousMove http://www.onvif.org/ver20/ptz/wsdl/ContinuousMove
int __tptz__ContinuousMove(struct _tptz__ContinuousMove *tptz__ContinuousMove,
			   struct _tptz__ContinuousMoveResponse *tptz__ContinuousMoveResponse);
//gsoap tptz service method-action: Stop http://www.onvif.org/ver20/ptz/wsdl/Stop
int __tptz__Stop(struct _tptz__Stop *tptz__Stop,
		 struct _tptz__StopResponse *tptz__StopResponse);
//gsoap tptz service method-action: GetPresets http://www.onvif.org/ver20/ptz/wsdl/GetPresets
int __tptz__GetPresets(struct _tptz__GetPresets *tptz__GetPresets,
		       struct _tptz__GetPresetsResponse *tptz__GetPresetsResponse);
//gsoap tptz service method-action: GotoPreset http://www.onvif.org/ver20/ptz/wsdl/GotoPreset
int __tptz__GotoPreset(struct _tptz__GotoPreset *tptz__GotoPreset,
		       struct _tptz__GotoPresetResponse *tptz__GotoPresetResponse);
