import { criApi } from "@berth/api";
import { bindService, invalidArgument, isNotFound, type ServiceBinding, type ServiceImpl } from "@berth/core";
import { criOpContext } from "../state/k8s-namespace.js";
import { toFsUsageMessage, toImageMessage, imageVerboseInfo } from "./convert-images.js";
import type { CriImages } from "./cri-images.js";
import { registryCredentials } from "./registry-credentials.js";

/** runtime.v1.ImageService over the CRI's images, always in the k8s.io namespace. */
export function imageServiceBinding(images: CriImages): ServiceBinding {
  const impl: ServiceImpl<typeof criApi.ImageService> = {
    async listImages(request, call) {
      const ctx = criOpContext(call.signal);
      const wanted = request.filter?.image?.image ?? "";
      if (wanted !== "") {
        const image = await images.get(ctx, wanted).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
        return { images: image ? [toImageMessage(image)] : [] };
      }
      return { images: (await images.list(ctx)).map(toImageMessage) };
    },
    async imageStatus(request, call) {
      const ref = request.image?.image ?? "";
      if (ref === "") throw invalidArgument("ImageStatus: image must be set");
      try {
        const image = await images.get(criOpContext(call.signal), ref);
        return { image: toImageMessage(image), info: request.verbose ? imageVerboseInfo(image) : {} };
      } catch (err) {
        // The CRI's answer for an absent image is an empty status, not an error.
        if (isNotFound(err)) return {};
        throw err;
      }
    },
    async pullImage(request, call) {
      const ref = request.image?.image ?? "";
      if (ref === "") throw invalidArgument("PullImage: image must be set");
      const image = await images.pull(criOpContext(call.signal), ref, registryCredentials(request.auth));
      return { imageRef: image.id };
    },
    async removeImage(request, call) {
      const ref = request.image?.image ?? "";
      if (ref === "") throw invalidArgument("RemoveImage: image must be set");
      await images.remove(criOpContext(call.signal), ref);
      return {};
    },
    async imageFsInfo(_request, call) {
      return { imageFilesystems: [toFsUsageMessage(await images.fsUsage(criOpContext(call.signal)))] };
    },
  };
  return bindService(criApi.ImageService, impl);
}
