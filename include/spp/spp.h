/* sppdetect: umbrella header of libspp. */
#pragma once

#include "spp/error.h"
#include "spp/box.h"
#include "spp/image.h"
#include "spp/tensor.h"
#include "spp/model.h"
#include "spp/net.h"
#include "spp/pyramid.h"
#include "spp/proposals.h"
#include "spp/video-proposals.h"
#include "spp/detector.h"
#include "spp/eval.h"
#include "spp/train.h"
#include "spp/object-tracker.h"
#include "spp/zones.h"
