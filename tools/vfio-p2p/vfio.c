// SPDX-License-Identifier: GPL-2.0
/*
 * Open a vfio-pci device, through iommufd or the legacy group/container
 * interface, and drive VFIO_DEVICE_FEATURE_P2P_REGISTER on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

/*
 * The UAPI headers must come from a kernel tree with the series: see
 * KHDR_INCLUDES in the Makefile.
 */
#if !__has_include(<linux/iommufd.h>)
#error "no linux/iommufd.h: see KHDR_INCLUDES in the Makefile"
#endif
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "explain.h"
#include "util.h"
#include "vfio.h"

#ifndef VFIO_DEVICE_FEATURE_P2P_REGISTER
#error "linux/vfio.h lacks VFIO_DEVICE_FEATURE_P2P_REGISTER: see KHDR_INCLUDES in the Makefile"
#endif
#ifndef VFIO_DEVICE_P2P_STATE_REGISTERED
#error "linux/vfio.h has the one-range-per-BAR VFIO_DEVICE_FEATURE_P2P_REGISTER: see KHDR_INCLUDES in the Makefile"
#endif

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

static void fds_init(struct vfio_dev *d, const char *bdf)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->device_fd = -1;
	d->iommufd = -1;
	d->group_fd = -1;
	d->container_fd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vfio_dev_close(struct vfio_dev *d)
{
	/* The device first: closing it ends its P2P registrations */
	close_fd(&d->device_fd);
	close_fd(&d->iommufd);
	close_fd(&d->group_fd);
	close_fd(&d->container_fd);
}

/*
 * The iommufd way.  Returns -errno with a reason in @sb; -EBUSY means the
 * device is open elsewhere.
 */
static int open_cdev(struct vfio_dev *d, struct sbuf *sb, char *cdev_path,
		     size_t cdev_len)
{
	struct vfio_device_attach_iommufd_pt attach;
	struct vfio_device_bind_iommufd bind;
	struct iommu_ioas_alloc ioas;
	char name[32];
	int ret;

	ret = pci_vfio_cdev(d->bdf, name, sizeof(name));
	if (ret) {
		sbuf_printf(sb, "no VFIO character device in sysfs (kernel without "
				"CONFIG_VFIO_DEVICE_CDEV?)");
		return ret;
	}
	snprintf(cdev_path, cdev_len, "/dev/vfio/devices/%s", name);
	d->device_fd = open(cdev_path, O_RDWR | O_CLOEXEC);
	if (d->device_fd < 0) {
		ret = -errno;
		sbuf_printf(sb, "%s: %s", cdev_path, strerror(-ret));
		return ret;
	}
	d->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->iommufd < 0) {
		ret = -errno;
		sbuf_printf(sb, "/dev/iommu: %s%s", strerror(-ret),
			    ret == -ENOENT ? " (kernel without CONFIG_IOMMUFD?)" : "");
		goto err;
	}

	memset(&bind, 0, sizeof(bind));
	bind.argsz = offsetofend(struct vfio_device_bind_iommufd, out_devid);
	bind.iommufd = d->iommufd;
	if (ioctl(d->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = -errno;
		sbuf_printf(sb, "VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(-ret));
		/* EINVAL: opened through its cdev already; EBUSY: its group is */
		if (ret == -EINVAL || ret == -EBUSY)
			ret = -EBUSY;
		goto err;
	}

	memset(&ioas, 0, sizeof(ioas));
	ioas.size = sizeof(ioas);
	if (ioctl(d->iommufd, IOMMU_IOAS_ALLOC, &ioas)) {
		ret = -errno;
		sbuf_printf(sb, "IOMMU_IOAS_ALLOC: %s", strerror(-ret));
		goto err;
	}

	memset(&attach, 0, sizeof(attach));
	attach.argsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	attach.pt_id = ioas.out_ioas_id;
	if (ioctl(d->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		ret = -errno;
		sbuf_printf(sb, "VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(-ret));
		goto err;
	}

	d->how = "iommufd";
	snprintf(d->path, sizeof(d->path), "%s", cdev_path);
	return 0;
err:
	close_fd(&d->device_fd);
	close_fd(&d->iommufd);
	return ret;
}

/* The legacy way: group, type1v2 (or no-IOMMU) container, device fd. */
static int open_group(struct vfio_dev *d, struct sbuf *sb, char *group_path,
		      size_t group_len)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int group, ret, type = VFIO_TYPE1v2_IOMMU;

	ret = pci_iommu_group(d->bdf, &group);
	if (ret) {
		sbuf_printf(sb, "no IOMMU group");
		return ret;
	}
	snprintf(group_path, group_len, "/dev/vfio/%d", group);
	if (access(group_path, F_OK)) {
		char noiommu[64];

		snprintf(noiommu, sizeof(noiommu), "/dev/vfio/noiommu-%d", group);
		if (!access(noiommu, F_OK)) {
			snprintf(group_path, group_len, "%s", noiommu);
			type = VFIO_NOIOMMU_IOMMU;
		}
	}
	d->group_fd = open(group_path, O_RDWR | O_CLOEXEC);
	if (d->group_fd < 0) {
		ret = -errno;
		sbuf_printf(sb, "%s: %s", group_path, strerror(-ret));
		return ret;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		sbuf_printf(sb, "VFIO_GROUP_GET_STATUS: %s", strerror(-ret));
		goto err;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = -EXDEV;
		sbuf_printf(sb, "IOMMU group %d is not viable", group);
		goto err;
	}

	d->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container_fd < 0) {
		ret = -errno;
		sbuf_printf(sb, "/dev/vfio/vfio: %s", strerror(-ret));
		goto err;
	}
	if (ioctl(d->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ret = -EPROTO;
		sbuf_printf(sb, "unknown VFIO API version");
		goto err;
	}
	if (ioctl(d->container_fd, VFIO_CHECK_EXTENSION, type) <= 0) {
		ret = -EOPNOTSUPP;
		sbuf_printf(sb, "the VFIO container lacks %s",
			    type == VFIO_TYPE1v2_IOMMU ? "the type1v2 IOMMU" : "no-IOMMU mode");
		goto err;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_SET_CONTAINER, &d->container_fd)) {
		ret = -errno;
		sbuf_printf(sb, "VFIO_GROUP_SET_CONTAINER: %s", strerror(-ret));
		goto err;
	}
	if (ioctl(d->container_fd, VFIO_SET_IOMMU, type)) {
		ret = -errno;
		sbuf_printf(sb, "VFIO_SET_IOMMU: %s", strerror(-ret));
		goto err;
	}
	d->device_fd = ioctl(d->group_fd, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (d->device_fd < 0) {
		ret = -errno;
		sbuf_printf(sb, "VFIO_GROUP_GET_DEVICE_FD: %s", strerror(-ret));
		d->device_fd = -1;
		goto err;
	}
	/* The ioctl gives no way to ask for O_CLOEXEC */
	fcntl(d->device_fd, F_SETFD, FD_CLOEXEC);

	d->how = "legacy group";
	snprintf(d->path, sizeof(d->path), "%s", group_path);
	return 0;
err:
	close_fd(&d->device_fd);
	close_fd(&d->container_fd);
	close_fd(&d->group_fd);
	return ret;
}

int vfio_dev_open(struct vfio_dev *d, const char *bdf, char *why, size_t len)
{
	char r1[256], r2[256], cdev[64] = "", group[64] = "", users[512];
	const char *paths[2] = { cdev, group };
	struct sbuf s1, s2, out;
	int ret1, ret2;

	fds_init(d, bdf);
	sbuf_init(&out, why, len);
	sbuf_init(&s1, r1, sizeof(r1));
	sbuf_init(&s2, r2, sizeof(r2));

	ret1 = open_cdev(d, &s1, cdev, sizeof(cdev));
	if (!ret1)
		return 0;
	ret2 = open_group(d, &s2, group, sizeof(group));
	if (!ret2)
		return 0;

	if (ret1 == -EBUSY || ret2 == -EBUSY) {
		proc_users_of(paths, 2, users, sizeof(users));
		explain_in_use(&out, bdf, users);
		return -EBUSY;
	}
	if (ret1 == -EACCES || ret2 == -EACCES || ret1 == -EPERM || ret2 == -EPERM) {
		sbuf_printf(&out, "no permission to open %s through VFIO (%s; %s)\n",
			    bdf, r1, r2);
		sbuf_printf(&out, "  Registering needs no privilege, but read and write access "
				  "to the VFIO files of the device: its VFIO character device "
				  "(/dev/vfio/devices/vfioN) and /dev/iommu, or its group "
				  "(/dev/vfio/GROUP) and /dev/vfio/vfio. They belong to root: "
				  "have root give them to this user (chown, or a udev rule), or "
				  "run vfio-p2p as root.\n");
		return -EACCES;
	}
	sbuf_printf(&out, "cannot open %s through VFIO\n", bdf);
	sbuf_printf(&out, "  through iommufd: %s\n", r1);
	sbuf_printf(&out, "  through the VFIO group: %s\n", r2);
	return ret2 == -ENOENT ? ret1 : ret2;
}

/* VFIO_DEVICE_FEATURE with a payload of @size bytes */
static int feature(int fd, uint32_t flags, void *data, size_t size)
{
	union {
		struct vfio_device_feature hdr;
		uint64_t align[8];
	} buf;

	if (sizeof(buf.hdr) + size > sizeof(buf))
		return -EINVAL;
	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = (uint32_t)(sizeof(buf.hdr) + size);
	buf.hdr.flags = flags;
	if (size)
		memcpy(buf.hdr.data, data, size);
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &buf))
		return -errno;
	if (size)
		memcpy(data, buf.hdr.data, size);
	return 0;
}

int p2p_feature_probe(struct vfio_dev *d)
{
	return feature(d->device_fd, VFIO_DEVICE_FEATURE_PROBE |
		       VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_P2P_REGISTER, NULL, 0);
}

int p2p_get_at(struct vfio_dev *d, int bar, uint64_t from, struct p2p_reg *r)
{
	struct vfio_device_feature_p2p_register arg = {
		.region_index = (uint32_t)bar,
		.offset = from,
	};
	int ret;

	ret = feature(d->device_fd, VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_P2P_REGISTER, &arg, sizeof(arg));
	if (ret)
		return ret;
	memset(r, 0, sizeof(*r));
	r->granule = arg.granule;
	if (!arg.size)
		return 0;
	/* A range that does not end after @from would make a list loop */
	if (arg.offset + arg.size <= from || arg.offset + arg.size < arg.offset)
		return -EPROTO;
	r->registered = arg.state & VFIO_DEVICE_P2P_STATE_REGISTERED;
	r->draining = arg.state & VFIO_DEVICE_P2P_STATE_DRAINING;
	r->offset = arg.offset;
	r->size = arg.size;
	return 0;
}

int p2p_list(struct vfio_dev *d, int bar, struct p2p_reg *r, int max, int *n,
	     uint64_t *granule)
{
	struct p2p_reg cur;
	uint64_t from = 0;
	int ret;

	*n = 0;
	*granule = 0;
	for (;;) {
		ret = p2p_get_at(d, bar, from, &cur);
		if (ret)
			return ret;
		*granule = cur.granule;
		if (!cur.size)
			return 0;
		if (*n < max)
			r[*n] = cur;
		(*n)++;
		from = cur.offset + cur.size;
	}
}

int p2p_granule(struct vfio_dev *d, int bar, uint64_t *granule)
{
	struct p2p_reg r;
	int ret, first = 0, i;

	/* -1 stands for @bar, asked first */
	for (i = -1; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		if (i == bar)
			continue;
		ret = p2p_get_at(d, i < 0 ? bar : i, 0, &r);
		/* A power of two, as the UAPI says; anything else is no answer */
		if (!ret && r.granule && !(r.granule & (r.granule - 1))) {
			*granule = r.granule;
			return 0;
		}
		if (!first)
			first = ret ? ret : -EPROTO;
	}
	return first;
}

int p2p_register(struct vfio_dev *d, int bar, uint64_t offset, uint64_t size)
{
	struct vfio_device_feature_p2p_register arg = {
		.region_index = (uint32_t)bar,
		.offset = offset,
		.size = size,
	};

	return feature(d->device_fd, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_P2P_REGISTER, &arg, sizeof(arg));
}

int p2p_unregister(struct vfio_dev *d, int bar, uint64_t offset, uint64_t size)
{
	struct vfio_device_feature_p2p_register arg = {
		.region_index = (uint32_t)bar,
		.flags = VFIO_DEVICE_P2P_UNREGISTER,
		.offset = offset,
		.size = size,
	};

	return feature(d->device_fd, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_P2P_REGISTER, &arg, sizeof(arg));
}

int vfio_region_get(struct vfio_dev *d, int index, struct vfio_region *r)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = (uint32_t)index,
	};

	if (ioctl(d->device_fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	memset(r, 0, sizeof(*r));
	r->offset = info.offset;
	r->size = info.size;
	r->readable = info.flags & VFIO_REGION_INFO_FLAG_READ;
	r->writable = info.flags & VFIO_REGION_INFO_FLAG_WRITE;
	r->mmappable = info.flags & VFIO_REGION_INFO_FLAG_MMAP;
	/* A BAR's capabilities: sparse mmap areas, or the MSI-X table in it */
	r->caps = info.flags & VFIO_REGION_INFO_FLAG_CAPS;
	return 0;
}
